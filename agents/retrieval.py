"""Retrieve knowledge-base articles for a question and score how sure the match is."""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, ndtri
from sklearn.covariance import LedoitWolf
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import QuantileTransformer, StandardScaler, normalize

# Tuned on banking77 dev.csv: escalate when the top hit's confidence is below this. The score is
# the meta-model's estimated probability that the top article is the right answer. The first is
# for indexes built with the sentence encoder, the second for TF-IDF alone (AGENT_ENCODER=none).
DEFAULT_CONFIDENCE_THRESHOLD: float = 0.2375
TFIDF_ONLY_CONFIDENCE_THRESHOLD: float = 0.30


def default_confidence_threshold(*, with_encoder: bool) -> float:
    """Return the tuned escalation threshold for an index built with or without the encoder."""
    return DEFAULT_CONFIDENCE_THRESHOLD if with_encoder else TFIDF_ONLY_CONFIDENCE_THRESHOLD


_FORMAT_VERSION = 2
_SEED = 0
# Documents are split into this many groups; each group in turn plays "not in the knowledge base".
_META_FOLDS = 5
# How many different such splits the meta-model's training rows are pooled from.
_META_SPLITS = 3
_BUILD_THREADS = 2
_CLASSIFIER_C = 20.0
_EMBEDDING_C = 10.0
_META_C = 1.0
# With at least this many example questions, the meta-model learns from them alone: titles and
# body sentences do not read like customer questions.
_MIN_META_EXAMPLES = 200
# Below this many distinct texts behind the meta-model's training rows, its features are
# standardised rather than quantile-mapped. Distinct texts, not rows: pooled splits repeat each
# text once per split, which adds no information about the features' distribution.
_MIN_QUANTILE_TEXTS = 1000
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_HAS_WORD = re.compile(r"[^\W_]", re.UNICODE)


@dataclass(frozen=True)
class KnowledgeDocument:
    """A knowledge-base article with optional example customer questions."""

    key: str
    title: str
    body: str
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


class Encoder(Protocol):
    """Turns texts into unit-length vectors (agents.encoder.SentenceEncoder)."""

    model_id: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class RetrievalHit:
    """A retrieved article key with a confidence in [0, 1]."""

    key: str
    score: float


def _examples(doc: KnowledgeDocument) -> list[str]:
    """Return a document's non-empty example questions, stripped."""
    return [e.strip() for e in doc.examples if e and e.strip()]


def pseudo_examples(doc: KnowledgeDocument) -> list[str]:
    """Return the texts that stand for a document: its examples, title, body sentences and tags."""
    texts = _examples(doc)
    if doc.title.strip():
        texts.append(doc.title.strip())
    # Body sentences let an article with no examples still be found from its own wording.
    texts.extend(s.strip() for s in _SENTENCE_SPLIT.split(doc.body or "") if len(s.strip()) > 3)
    tags = [t.strip() for t in doc.tags if t and t.strip()]
    if tags:
        texts.append(" ".join(tags))
    if not texts:
        texts.append(doc.key.replace("_", " ").replace("-", " "))
    return texts


def _class_logits(z: np.ndarray) -> np.ndarray:
    """Return one logit column per class from a fitted LogisticRegression's decision values."""
    if z.shape[1] == 1:
        # Binary logistic regression has one logit: that of the second class against the first.
        z = np.hstack([np.zeros_like(z), z])
    return z


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _top_two(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each row's top class index, its probability and the runner-up's probability."""
    n = probs.shape[0]
    rows = np.arange(n)
    order = np.argsort(-probs, axis=1, kind="stable")
    p2 = probs[rows, order[:, 1]] if probs.shape[1] > 1 else np.zeros(n)
    return order[:, 0], probs[rows, order[:, 0]], p2


def _sureness(p1: np.ndarray, p2: np.ndarray) -> list[np.ndarray]:
    """Return the confidence features of a ranking: top probability, margin, log-ratio."""
    return [p1, p1 - p2, np.log((p1 + 1e-9) / (p2 + 1e-9))]


def _entropy(probs: np.ndarray) -> np.ndarray:
    return -(probs * np.log(probs + 1e-12)).sum(axis=1)


def _l2_rows(m: sp.spmatrix) -> sp.csr_matrix:
    """Scale each row of a sparse matrix to unit length (zero rows stay zero)."""
    m = sp.csr_matrix(m, dtype=np.float64, copy=True)
    row_len = np.diff(m.indptr)
    norms = np.sqrt(np.add.reduceat(m.data**2, m.indptr[:-1][row_len > 0])) if m.nnz else []
    scale = np.ones(m.shape[0])
    scale[row_len > 0] = norms
    m.data /= np.repeat(scale, row_len)
    return m


class _Meta:
    """Logistic regression over confidence features, standardised or, with enough training
    texts, mapped to normal scores by their quantiles.

    Fitted with scikit-learn, evaluated with numpy: one query's features would otherwise spend
    about 5 ms in scikit-learn's input validation.
    """

    # scikit-learn's QuantileTransformer clips probabilities this close to 0 and 1, and the
    # normal scores to the matching quantile.
    _BOUND = 1e-7
    _CLIP = float(-ndtri(_BOUND - np.spacing(1)))

    def __init__(self, x: np.ndarray, y: np.ndarray, *, quantiles: bool) -> None:
        # Distances and log-ratios are heavy-tailed; ranking each feature against its training
        # distribution keeps a few extreme rows from dominating a linear model. Across three
        # training splits this raised in-scope accuracy on Banking77 dev at the same overall
        # accuracy (bench/RETRIEVAL_NOTES.md). A few hundred texts (a small knowledge base) are
        # too few to estimate the quantiles: those are standardised instead.
        self.quantiles: np.ndarray | None = None
        self.references: np.ndarray | None = None
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        if quantiles:
            scaler = QuantileTransformer(
                n_quantiles=200, output_distribution="normal", random_state=_SEED
            )
        else:
            scaler = StandardScaler()
        pipe = make_pipeline(scaler, LogisticRegression(C=_META_C, max_iter=1000))
        pipe.fit(x, y)
        if quantiles:
            self.quantiles = scaler.quantiles_.copy()
            self.references = scaler.references_.copy()
        else:
            self.mean = scaler.mean_.copy()
            self.scale = scaler.scale_.copy()
        lr = pipe[-1]
        self.coef = lr.coef_[0].copy()
        self.intercept = float(lr.intercept_[0])

    def _scaled(self, feats: np.ndarray) -> np.ndarray:
        if self.quantiles is None:
            return (feats - self.mean) / self.scale
        return self._normal_scores(feats)

    def _normal_scores(self, feats: np.ndarray) -> np.ndarray:
        """QuantileTransformer(output_distribution="normal").transform, column by column."""
        out = np.empty(feats.shape, dtype=np.float64)
        refs = self.references
        for j in range(feats.shape[1]):
            col, q = feats[:, j].astype(np.float64), self.quantiles[:, j]
            # Interpolating up and down and averaging handles runs of equal quantiles.
            p = 0.5 * (np.interp(col, q, refs) - np.interp(-col, -q[::-1], -refs[::-1]))
            p[col + self._BOUND > q[-1]] = 1.0
            p[col - self._BOUND < q[0]] = 0.0
            out[:, j] = p
        with np.errstate(divide="ignore"):
            return np.clip(ndtri(out), -self._CLIP, self._CLIP)

    def predict(self, feats: np.ndarray) -> np.ndarray:
        """Return P(top hit is right) for each feature row."""
        return expit(self._scaled(feats) @ self.coef + self.intercept)


class _Model:
    """TF-IDF (word + char n-grams) with a softmax classifier and a nearest-example table."""

    def __init__(self, texts: list[str], labels: np.ndarray) -> None:
        self.word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        # char_wb n-grams catch typos and word variants ("login" / "log in", "refunded").
        self.char = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            sublinear_tf=True,
            min_df=2 if len(texts) >= 200 else 1,
        )
        word_m = normalize(self.word.fit_transform(texts))
        char_m = normalize(self.char.fit_transform(texts))
        # stop_words_ only records pruned n-grams; dropping it shrinks snapshots a lot.
        self.word.stop_words_ = None
        self.char.stop_words_ = None
        matrix = normalize(sp.hstack([word_m, char_m]).tocsr())
        # Stored transposed so that a query's similarities are one CSR product, no conversion.
        self.matrix_t = matrix.T.tocsr()
        self.labels = labels
        self.classes = np.unique(labels)
        self._analyze = self.word.build_analyzer()
        self._vocab = self.word.vocabulary_
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        if len(self.classes) > 1:
            # sag with a loose tolerance fits in a third of lbfgs's time at the same accuracy.
            clf = LogisticRegression(
                C=_CLASSIFIER_C, solver="sag", tol=1e-3, max_iter=1000, random_state=_SEED
            )
            clf.fit(matrix, labels)
            # Kept as plain arrays: scoring one query with numpy avoids sklearn's validation cost.
            self.coef = np.ascontiguousarray(clf.coef_.T)
            self.intercept = clf.intercept_.copy()

    def embed(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Map texts into the joint normalised word + char TF-IDF space."""
        word_m = _l2_rows(self.word.transform(texts))
        char_m = _l2_rows(self.char.transform(texts))
        return _l2_rows(sp.hstack([word_m, char_m], format="csr"))

    def probabilities(self, q: sp.csr_matrix) -> np.ndarray:
        """Return class probabilities (columns follow self.classes)."""
        if self.coef is None or self.intercept is None:
            return np.ones((q.shape[0], 1))
        return _softmax(_class_logits(np.asarray(q @ self.coef) + self.intercept))

    def features(
        self, texts: Sequence[str], q: sp.csr_matrix | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (per-text confidence features, class-probability matrix)."""
        if q is None:
            q = self.embed(texts)
        probs = self.probabilities(q)
        n = probs.shape[0]
        top, p1, p2 = _top_two(probs)
        pred = self.classes[top]
        sims = (q @ self.matrix_t).toarray()
        same = self.labels[None, :] == pred[:, None]
        own = np.where(same, sims, -1.0)
        other = np.where(same, -1.0, sims)
        nearest_own = own.max(axis=1)
        nearest_other = other.max(axis=1) if other.shape[1] else np.zeros(n)
        k = min(5, sims.shape[1])
        topk_own = np.sort(own, axis=1)[:, -k:]
        topk_own_mean = np.where(topk_own < 0, 0.0, topk_own).mean(axis=1)
        top10 = np.argsort(-sims, axis=1, kind="stable")[:, : min(10, sims.shape[1])]
        vote = (self.labels[top10] == pred[:, None]).mean(axis=1)
        tokens = [self._analyze(t) for t in texts]
        oov = np.array(
            [np.mean([tok not in self._vocab for tok in ts]) if ts else 1.0 for ts in tokens]
        )
        n_tokens = np.log1p([len(ts) for ts in tokens])
        feats = np.column_stack(
            [
                *_sureness(p1, p2),
                _entropy(probs),
                sims.max(axis=1),
                nearest_own,
                topk_own_mean,
                nearest_own - nearest_other,
                vote,
                oov,
                n_tokens,
            ]
        )
        return feats, probs


class _Embeddings:
    """The sentence-embedding view: a softmax over the vectors, class centroids with a shared
    covariance (Mahalanobis distance) and the vectors themselves for nearest neighbours."""

    def __init__(self, vectors: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> None:
        # Texts grouped by class, so that each class's vectors are one contiguous slice.
        grouped = np.argsort(labels, kind="stable")
        self.vectors = np.ascontiguousarray(vectors[grouped], dtype=np.float32)
        self.labels = labels[grouped]
        self.classes = classes
        self._starts = np.searchsorted(self.labels, classes, side="left")
        self._ends = np.searchsorted(self.labels, classes, side="right")
        self.coef: np.ndarray | None = None
        self.intercept: np.ndarray | None = None
        if len(classes) > 1:
            clf = LogisticRegression(C=_EMBEDDING_C, max_iter=300)
            clf.fit(self.vectors, self.labels)
            self.coef = np.ascontiguousarray(clf.coef_.T, dtype=np.float32)
            self.intercept = clf.intercept_.astype(np.float32)
        bounds = zip(self._starts, self._ends, strict=True)
        means = np.vstack([self.vectors[start:end].mean(axis=0) for start, end in bounds])
        residuals = self.vectors - means[np.searchsorted(classes, self.labels)]
        # Mahalanobis distance to each class centroid with one shrunk covariance for all classes:
        # a strong signal that a question is about none of them (Podolskiy et al., AAAI 2021).
        precision = LedoitWolf().fit(residuals).precision_.astype(np.float32)
        self._means_p = means @ precision
        self._means_p_means = (self._means_p * means).sum(axis=1)
        self._precision = precision

    def logits(self, q: np.ndarray) -> np.ndarray:
        """Return the softmax logits (columns follow self.classes)."""
        if self.coef is None or self.intercept is None:
            return np.zeros((q.shape[0], len(self.classes)), dtype=np.float32)
        return _class_logits(q @ self.coef + self.intercept)

    def mahalanobis(self, q: np.ndarray) -> np.ndarray:
        """Return the squared Mahalanobis distance of each row to each class centroid."""
        q_p = q @ self._precision
        return (q_p * q).sum(axis=1)[:, None] - 2.0 * (q @ self._means_p.T) + self._means_p_means

    def neighbours(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (cosine to every text, mean cosine to each class's 3 nearest texts)."""
        sims = q @ self.vectors.T
        knn = np.empty((q.shape[0], len(self.classes)), dtype=np.float32)
        for j, (start, end) in enumerate(zip(self._starts, self._ends, strict=True)):
            own = sims[:, start:end]
            k = min(3, end - start)
            knn[:, j] = np.partition(own, end - start - k, axis=1)[:, -k:].mean(axis=1)
        return sims, knn


def _features(
    model: _Model,
    emb: _Embeddings | None,
    texts: Sequence[str],
    q: sp.csr_matrix | None = None,
    q_vec: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (confidence features, ranking probabilities) for texts.

    Without embeddings these are the TF-IDF model's own. With them, the ranking adds the
    embedding softmax's logits to the TF-IDF log-probabilities, and the features gain how far
    the question is from the chosen article in the embedding space and whether the views agree.
    """
    tf_feats, tf_probs = model.features(texts, q)
    if emb is None or q_vec is None:
        return tf_feats, tf_probs
    n = tf_probs.shape[0]
    rows = np.arange(n)
    z = emb.logits(q_vec)
    emb_probs = _softmax(z)
    probs = _softmax(np.log(tf_probs + 1e-12) + (z - z.max(axis=1, keepdims=True)))
    top, p1, p2 = _top_two(probs)
    is_top = np.arange(probs.shape[1])[None, :] == top[:, None]
    maha = emb.mahalanobis(q_vec)
    maha_top = maha[rows, top]
    maha_best = maha.min(axis=1)
    maha_runner_up = np.where(is_top, np.inf, maha).min(axis=1) if maha.shape[1] > 1 else maha_top
    sims, knn = emb.neighbours(q_vec)
    knn_top = knn[rows, top]
    knn_other = np.where(is_top, -1.0, knn).max(axis=1) if knn.shape[1] > 1 else np.zeros(n)
    own = np.where(emb.labels[None, :] == emb.classes[top][:, None], sims, -1.0).max(axis=1)
    emb_feats = np.column_stack(
        [
            maha_top,
            maha_best,
            maha_top - maha_best,
            maha_runner_up - maha_top,
            *_sureness(p1, p2),
            emb_probs[rows, top],
            tf_probs[rows, top],
            emb_probs.argmax(axis=1) == top,
            tf_probs.argmax(axis=1) == top,
            knn_top,
            knn_top - knn_other,
            sims.max(axis=1),
            own,
            _entropy(emb_probs),
        ]
    )
    return np.hstack([tf_feats, emb_feats]), probs


def _fallback_confidence(feats: np.ndarray) -> np.ndarray:
    """Score without a meta-model: cosine to the nearest text of the top document."""
    # Column 5 is the similarity to the predicted document's nearest text; it is already in [0, 1].
    return np.clip(feats[:, 5], 0.0, 1.0)


class KnowledgeIndex:
    """A searchable index over knowledge documents with calibrated confidences."""

    def __init__(
        self,
        keys: list[str],
        model: _Model | None,
        meta: _Meta | None,
        embeddings: _Embeddings | None = None,
        encoder: Encoder | None = None,
    ) -> None:
        self._keys = keys
        self._model = model
        self._meta = meta
        self._embeddings = embeddings
        self._encoder = encoder if embeddings is not None else None

    @classmethod
    def build(
        cls, documents: Sequence[KnowledgeDocument], *, encoder: Encoder | None = None
    ) -> KnowledgeIndex:
        """Build an index from documents (later duplicates of a key are ignored).

        With an encoder, sentence embeddings join the TF-IDF view in the ranking and in the
        confidence; the same encoder must be passed to loads().
        """
        unique: dict[str, KnowledgeDocument] = {}
        for doc in documents:
            unique.setdefault(doc.key, doc)
        # Sorting by key makes the fold assignment, hence the scores, independent of input order.
        docs = [unique[k] for k in sorted(unique)]
        if not docs:
            return cls([], None, None)
        texts: list[str] = []
        labels: list[int] = []
        is_example: list[bool] = []
        for i, doc in enumerate(docs):
            # pseudo_examples() lists the document's own examples first.
            n_examples = len(_examples(doc))
            for j, text in enumerate(pseudo_examples(doc)):
                texts.append(text)
                labels.append(i)
                is_example.append(j < n_examples)
        y = np.asarray(labels)
        vectors = encoder.encode(texts) if encoder is not None else None
        model = _Model(texts, y)
        embeddings = _Embeddings(vectors, y, model.classes) if vectors is not None else None
        meta = _train_meta(texts, y, np.asarray(is_example), vectors, len(docs))
        return cls([d.key for d in docs], model, meta, embeddings, encoder)

    def search(self, query: str, *, limit: int = 3) -> list[RetrievalHit]:
        """Return up to `limit` hits, best first; empty for an empty index or contentless query."""
        if self._model is None or limit <= 0 or not query or not _HAS_WORD.search(query):
            return []
        q = self._model.embed([query])
        if q.nnz == 0:
            return []
        q_vec = self._encoder.encode([query]) if self._encoder is not None else None
        feats, probs = _features(self._model, self._embeddings, [query], q, q_vec)
        conf = self._confidence(feats)[0]
        order = np.argsort(-probs[0], kind="stable")[:limit]
        top_p = probs[0, order[0]]
        hits = []
        for rank, col in enumerate(order):
            key = self._keys[int(self._model.classes[col])]
            # The top hit carries the calibrated confidence; the others are scaled by their
            # probability relative to the top one so the list stays ordered and in [0, 1].
            score = conf if rank == 0 else conf * float(probs[0, col] / max(top_p, 1e-12))
            hits.append(RetrievalHit(key=key, score=round(float(score), 6)))
        return hits

    def _confidence(self, feats: np.ndarray) -> np.ndarray:
        if self._meta is None:
            return _fallback_confidence(feats)
        return self._meta.predict(feats)

    def __len__(self) -> int:
        """Return the number of documents."""
        return len(self._keys)

    def dumps(self) -> bytes:
        """Serialise the index (the encoder itself is not stored, only which one it was)."""
        state = {
            "version": _FORMAT_VERSION,
            "keys": self._keys,
            "model": self._model,
            "meta": self._meta,
            "embeddings": self._embeddings,
            "encoder": self._encoder.model_id if self._encoder is not None else None,
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def loads(cls, data: bytes, *, encoder: Encoder | None = None) -> KnowledgeIndex:
        """Load an index produced by dumps(), with the encoder it was built with."""
        state = pickle.loads(data)  # noqa: S301 - only our own snapshots are loaded
        if not isinstance(state, dict) or state.get("version") != _FORMAT_VERSION:
            raise ValueError("unsupported knowledge index snapshot")
        built_with = state["encoder"]
        if built_with != (encoder.model_id if encoder is not None else None):
            raise ValueError(f"index built with encoder {built_with!r}: rebuild it")
        return cls(state["keys"], state["model"], state["meta"], state["embeddings"], encoder)


def _fold_rows(
    texts: list[str],
    labels: np.ndarray,
    vectors: np.ndarray | None,
    train: np.ndarray,
    held: np.ndarray,
    unseen: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Fit a model on ``train`` texts and return the meta-model's rows for ``held`` (covered
    documents' texts it has not seen) and ``unseen`` (texts of documents left out)."""
    rows: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    if len(np.unique(labels[train])) < 2:
        return rows, targets
    fold_model = _Model([texts[i] for i in np.flatnonzero(train)], labels[train])
    fold_emb = (
        _Embeddings(vectors[train], labels[train], fold_model.classes)
        if vectors is not None
        else None
    )
    for mask, in_scope in ((held, True), (unseen, False)):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        q_vec = vectors[idx] if vectors is not None else None
        feats, probs = _features(fold_model, fold_emb, [texts[i] for i in idx], q_vec=q_vec)
        pred = fold_model.classes[probs.argmax(axis=1)]
        rows.append(feats)
        # A question of an unseen document is never answered correctly.
        targets.append((pred == labels[idx]) if in_scope else np.zeros(len(idx), bool))
    return rows, targets


def _train_meta(
    texts: list[str],
    labels: np.ndarray,
    is_example: np.ndarray,
    vectors: np.ndarray | None,
    n_docs: int,
) -> _Meta | None:
    """Learn P(top hit is right) from features, simulating uncovered topics by leaving docs out.

    The documents are split into groups _META_SPLITS times over; each group in turn is left
    out, and the rows of all splits are pooled. One random split decides which documents stand
    in for each other's "not covered", and on Banking77 that choice alone moved accuracy by
    about ±0.005; pooling several splits averages it out (bench/RETRIEVAL_NOTES.md).
    """
    if n_docs < 3:
        return None
    rng = np.random.RandomState(_SEED)
    n_folds = min(_META_FOLDS, n_docs)
    # Rows the meta-model learns from: real example questions when there are enough of them.
    askable = is_example if is_example.sum() >= _MIN_META_EXAMPLES else np.ones(len(texts), bool)
    folds = []
    for _ in range(_META_SPLITS):
        doc_groups = np.array_split(rng.permutation(n_docs), n_folds)
        text_fold = rng.randint(0, n_folds, size=len(texts))
        for f, held_docs in enumerate(doc_groups):
            unseen = np.isin(labels, held_docs)
            train = ~unseen & (text_fold != f)
            folds.append((train, ~unseen & (text_fold == f) & askable, unseen & askable))
    # The fits are independent and scikit-learn's solvers release the GIL for much of their
    # work: two threads cut a Banking77 build by about a third.
    with ThreadPoolExecutor(max_workers=_BUILD_THREADS) as pool:
        results = list(pool.map(lambda fold: _fold_rows(texts, labels, vectors, *fold), folds))
    rows = [r for fold_rows, _ in results for r in fold_rows]
    targets = [t for _, fold_targets in results for t in fold_targets]
    if not rows:
        return None
    x = np.vstack(rows)
    y = np.concatenate(targets)
    if y.all() or not y.any():
        return None
    return _Meta(x, y, quantiles=int(askable.sum()) >= _MIN_QUANTILE_TEXTS)
