// rag web: the only script of the pages (served as /static/web.js; the Content-Security-Policy allows no
// inline script). It streams an answer or a brief over server-sent events and builds the DOM with
// textContent only: no article text, title or answer is ever parsed as HTML.
"use strict";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function params(node, names) {
  const q = new URLSearchParams();
  for (const [key, attr] of names) {
    const v = node.dataset[attr];
    if (v) q.set(key, v);
  }
  return q;
}

function spanHref(c) {
  return "/articles/" + encodeURIComponent(c.article_id) + "?start=" + c.start + "&end=" + c.end + "#span";
}

// The answer text with each [n] a link to the cited span in its article.
function linked(text, citations) {
  const frag = document.createDocumentFragment();
  const byN = new Map(citations.map((c) => [c.n, c]));
  let last = 0;
  for (const m of text.matchAll(/\[(\d+)\]/g)) {
    frag.append(document.createTextNode(text.slice(last, m.index)));
    const c = byN.get(Number(m[1]));
    if (c) {
      const a = el("a", "[" + m[1] + "]", "cref");
      a.href = spanHref(c);
      a.title = c.title;
      frag.append(a);
    } else {
      frag.append(document.createTextNode(m[0]));
    }
    last = m.index + m[0].length;
  }
  frag.append(document.createTextNode(text.slice(last)));
  return frag;
}

function queueText(ahead) {
  return ahead === 0 ? "Your turn is next." : "Waiting for the model: " + ahead + " request" + (ahead === 1 ? "" : "s") + " ahead of yours.";
}

function startAsk(box) {
  const status = document.getElementById("status");
  const answer = document.getElementById("answer");
  const q = params(box, [["question", "question"], ["as_of", "asOf"], ["since", "since"], ["until", "until"]]);
  const es = new EventSource("/api/ask/stream?" + q.toString());
  let sentences = 0;
  es.addEventListener("queue", (ev) => { status.textContent = queueText(JSON.parse(ev.data).ahead); });
  es.addEventListener("start", () => { status.textContent = "Retrieving the evidence and generating…"; });
  es.addEventListener("sentence", (ev) => {
    if (!box.dataset.firstSentenceMs) box.dataset.firstSentenceMs = String(Math.round(performance.now()));  // from navigation
    const s = el("span", JSON.parse(ev.data).text, "sentence");
    s.dataset.order = String(++sentences);
    s.dataset.generating = box.dataset.generated ? "done" : "running";
    answer.append(s);
    status.textContent = "Verified sentences appear as they pass; still generating…";
  });
  es.addEventListener("generated", () => {
    box.dataset.generated = "1";
    status.textContent = "Generation finished; checking the answer…";
  });
  es.addEventListener("done", (ev) => {
    es.close();
    const a = JSON.parse(ev.data);
    answer.replaceChildren(linked(a.answer, a.citations));
    const sources = document.getElementById("sources");
    for (const c of a.citations) {
      const li = el("li");
      const link = el("a", c.title);
      link.href = spanHref(c);
      li.append(link, document.createTextNode(" (" + (c.date || "undated") + "): “" + c.text + "”"));
      sources.append(li);
    }
    if (a.refused) {
      answer.classList.add("refused");
      const r = a.refusal || {};
      document.getElementById("why").append(el("p", "Why: " + (r.detail || a.answer) + " (stage: " + (r.stage || "?") + ")", "why"));
      const related = document.getElementById("related");
      if (a.related && a.related.length) related.before(el("h3", "Closest passages"));
      for (const p of a.related || []) {
        const li = el("li");
        const link = el("a", p.title);
        link.href = spanHref(p);
        li.append(link, document.createTextNode(" (" + (p.date || "undated") + "): " + p.text));
        related.append(li);
      }
    }
    box.dataset.doneMs = String(Math.round(performance.now()));
    box.dataset.done = "1";
    status.textContent = a.refused ? "Refused." : "Done: " + a.citations.length + " citation" + (a.citations.length === 1 ? "" : "s") + ".";
  });
  es.addEventListener("failure", (ev) => {
    es.close();
    box.dataset.done = "1";
    status.replaceChildren(el("span", "error: " + JSON.parse(ev.data).error, "error"));
  });
  es.onerror = () => {
    if (box.dataset.done) return;
    es.close();  // never let the browser reconnect: that would ask again
    box.dataset.done = "1";
    status.replaceChildren(el("span", "error: the connection to the server was lost; ask again", "error"));
  };
}

function startStory(box) {
  const status = document.getElementById("status");
  const bar = document.getElementById("progress");
  const q = params(box, [["topic", "topic"], ["since", "since"], ["until", "until"]]);
  const es = new EventSource("/api/brief/stream?" + q.toString());
  es.addEventListener("queue", (ev) => { status.textContent = queueText(JSON.parse(ev.data).ahead); });
  es.addEventListener("start", () => { status.textContent = "Finding the story's articles…"; });
  es.addEventListener("progress", (ev) => {
    const p = JSON.parse(ev.data);
    bar.max = p.total;
    bar.value = p.done;
    status.textContent = "Written " + p.done + " of " + p.total + (p.label ? " (" + p.label + ")" : "");
  });
  followToView(es, box, status, (href) => window.location.assign(href), "try again");  // the brief it wrote
}

// The end of a stream that writes a page: go to the page it names ("view", then "done"), or show why not.
function followToView(es, box, status, go, retry) {
  es.addEventListener("view", (ev) => { box.dataset.view = JSON.parse(ev.data).href; });
  es.addEventListener("done", () => {
    es.close();
    box.dataset.done = "1";
    go(box.dataset.view);
  });
  es.addEventListener("failure", (ev) => {
    es.close();
    box.dataset.done = "1";
    status.replaceChildren(el("span", "error: " + JSON.parse(ev.data).error, "error"));
  });
  es.onerror = () => {
    if (box.dataset.done) return;
    es.close();
    box.dataset.done = "1";
    status.replaceChildren(el("span", "error: the connection to the server was lost; " + retry, "error"));
  };
}

// A page whose content the model writes (a day's digest): the queue, then the page showing the result.
function startWait(box) {
  const status = document.getElementById("status");
  const es = new EventSource(box.dataset.stream);
  es.addEventListener("queue", (ev) => { status.textContent = queueText(JSON.parse(ev.data).ahead); });
  es.addEventListener("start", () => { status.textContent = "The model is writing it…"; });
  // the hash keeps the story the link pointed at
  followToView(es, box, status, (href) => window.location.replace(href + window.location.hash), "reload the page");
}

// Server-sent events over a POST (EventSource only GETs): fetch the stream and call on(event, data).
async function streamPost(url, body, on) {
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (!r.ok) {
    const e = await r.json().catch(() => ({error: r.status + " " + r.statusText}));
    on("failure", e);
    return;
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buf += value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = "message", data = "";
      for (const line of chunk.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      if (data) on(event, JSON.parse(data));
    }
  }
}

// The check form: posted as a stream, so the place in the queue shows; then the page with the report.
function startCheck(form) {
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const status = document.getElementById("status");
    const f = new FormData(form);
    const body = {text: f.get("text") || "", lines: f.get("lines") === "1", since: f.get("since") || null, until: f.get("until") || null};
    status.textContent = "Sending the draft…";
    let view = null;
    streamPost("/api/check/stream", body, (event, data) => {
      if (event === "queue") status.textContent = queueText(data.ahead);
      else if (event === "start") status.textContent = "Checking each sentence against the articles…";
      else if (event === "view") view = data.href;
      else if (event === "done" && view) window.location.assign(view);
      else if (event === "failure") status.replaceChildren(el("span", "error: " + data.error, "error"));
    }).catch(() => status.replaceChildren(el("span", "error: the connection to the server was lost; try again", "error")));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const check = document.getElementById("check-form");
  if (check) startCheck(check);
  const wait = document.getElementById("wait");
  if (wait && wait.dataset.stream) startWait(wait);
  const ask = document.getElementById("ask");
  if (ask && ask.dataset.question) startAsk(ask);
  const story = document.getElementById("story");
  if (story && story.dataset.topic) startStory(story);
});
