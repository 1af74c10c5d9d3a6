"""Box distillation (AgentDistill): a teacher's trajectories become an MCP-Box for the student.

Collect (`teach`) → extract → validate → abstract → cluster → consolidate → emit; `pipeline`
runs the stages after collection, each writing its JSONL artifacts into one output folder.
"""
