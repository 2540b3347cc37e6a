"""Reading the corpus day by day: a day's articles grouped into stories (rag.summarise.stories), the daily digest
(rag.summarise.digest), the topic brief that follows a story (rag.summarise.brief), and where its articles
disagree (rag.summarise.conflicts); each summary sentence verified and cited like an answer."""
