"""Secretary-project ledger (书记项目台账): claims, milestones, verification, accountability."""
