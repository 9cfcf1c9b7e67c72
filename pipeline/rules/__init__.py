"""The clue rules of clue-rules.md ("data collision"): see pipeline/rules/engine.py and docs/rules.md."""
from pipeline.rules.base import RULES, RuleResult
from pipeline.rules.engine import RULE_ORDER, detect, registers_present, run_rules, tables_present

__all__ = ["RULES", "RULE_ORDER", "RuleResult", "detect", "registers_present", "run_rules", "tables_present"]
