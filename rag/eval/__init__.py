"""The eval harness: gold data (schema), metrics (pure functions), the run (harness), the report."""

from rag.eval.harness import EvalReport, run_eval
from rag.eval.schema import GoldError, load_gold

__all__ = ["EvalReport", "GoldError", "load_gold", "run_eval"]
