"""Background work that follows the log: the runner, leader election, the workflows, the NATS relay."""
