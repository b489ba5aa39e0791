"""galactic: federated training (FedAvg / FedProx) of the fusion model across simulated observatories,
each holding a non-IID shard of the joint planets seen through its own instrument."""
