"""Student models: the registry of manifests, the store of verified GGUFs, the llama.cpp backend."""

from runtime.model.base import ChatMessage, ContextFull, Generation, Model, PrefixInfo

__all__ = ["ChatMessage", "ContextFull", "Generation", "Model", "PrefixInfo"]
