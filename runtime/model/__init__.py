"""Student models: the registry of manifests, the store of verified GGUFs, and the backends (llama.cpp,
an OpenAI-compatible server) behind one protocol; `runtime.model.open.open_model` picks one."""

from runtime.model.base import ChatMessage, ContextFull, Generation, Model, PrefixInfo, Prompt, Sampling

__all__ = ["ChatMessage", "ContextFull", "Generation", "Model", "PrefixInfo", "Prompt", "Sampling"]
