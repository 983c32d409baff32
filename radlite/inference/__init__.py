"""Running prompts on llama.cpp models: shared model loading, decoding, result cache."""
