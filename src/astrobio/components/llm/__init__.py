"""llm: a small instruction LLM fine-tuned with LoRA, conditioned on fusion planet embeddings."""
