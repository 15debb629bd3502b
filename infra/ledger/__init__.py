"""The write side: stream kinds, the state cache, the unit of work, the ledger that saves a command atomically, group commit, snapshots."""
