"""Child-safety red-teaming of any OpenAI-compatible chat endpoint and a Child Rights Impact
Assessment report (Joint Statement 3e)."""

from .runner import RunConfig, Target, run_cases
from .suite import Case, load_suite

__all__ = ["Case", "RunConfig", "Target", "load_suite", "run_cases"]
