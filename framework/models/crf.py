"""A linear-chain conditional random field (CRF) as a backend-agnostic Keras 3 layer.

Keras 3 ships no CRF, and the Keras 2 ones (tensorflow-addons, keras-crf) do not work with
it, so this module implements the standard forward algorithm and Viterbi decoding with
``keras.ops`` only. Nothing here imports TensorFlow, so the layer runs on the JAX and
PyTorch backends as well; the time loops use ``keras.ops.scan``, which becomes a single
``tf.while_loop`` under ``tf.function`` (Keras ``fit`` with the TensorFlow backend) instead
of a Python loop unrolled over time.

Shapes use ``B`` for batch, ``T`` for time and ``L`` for the number of tags. Masks are
``[B, T]`` booleans (or 0/1 integers), right-padded: ``True`` for each real token, then
``False``. Every row must hold at least one real token; a row of length 0 has no tag
sequence to score, and its results are undefined.

Scoring convention (as in allennlp's ``ConditionalRandomField``)::

    score(y) = start[y_0] + sum_t potentials[t, y_t]
               + sum_{t>=1} transitions[y_{t-1}, y_t] + end[y_{n-1}]

where ``n`` is the row's length. ``log p(y | potentials) = score(y) - log Z`` with ``Z``
the sum of ``exp(score)`` over all ``L**n`` tag sequences.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

# Added to the score of every forbidden transition, start or end. Large enough that a
# forbidden path never wins Viterbi nor carries visible probability mass (exp(-1e4) == 0 in
# float32), small enough that sums of a few of them stay finite in float32, unlike -inf,
# whose gradients through logsumexp would be NaN.
FORBIDDEN_PENALTY = -1e4


def _penalty(allowed: Any, shape: tuple[int, ...], name: str) -> np.ndarray:
    """Turns an optional boolean ``allowed`` array into an additive float32 penalty.

    Args:
        allowed: None (everything allowed) or a boolean array / nested list of ``shape``.
        shape: the expected shape, ``(L, L)`` for transitions or ``(L,)`` for start/end.
        name: the constructor argument's name, for the error message.

    Returns:
        A float32 numpy array of ``shape`` holding 0 where allowed and
        ``FORBIDDEN_PENALTY`` where forbidden.

    Raises:
        ValueError: if ``allowed`` does not have ``shape``.
    """
    if allowed is None:
        return np.zeros(shape, dtype="float32")
    allowed = np.asarray(allowed, dtype=bool)
    if allowed.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {allowed.shape}")
    return np.where(allowed, 0.0, FORBIDDEN_PENALTY).astype("float32")


def _as_list(allowed: Any) -> list | None:
    """Returns ``allowed`` as nested Python bools, so ``get_config`` is JSON-serializable."""
    return None if allowed is None else np.asarray(allowed, dtype=bool).tolist()


def _fold(step, init, steps):
    """Runs ``carry = step(carry, steps[t])`` for every ``t`` and returns the final carry.

    A differentiable loop that compiles everywhere the likelihood is trained. With the
    TensorFlow backend it is ``keras.ops.while_loop`` with ``maximum_iterations`` set: the
    ``tf.while_loop`` inside ``keras.ops.scan`` has none, and XLA (which ``fit`` turns on by
    default on a GPU) then cannot compile its gradient ("XLA compilation requires a fixed
    tensor list size"). Elsewhere it is ``keras.ops.scan``, since JAX cannot differentiate
    a ``while_loop`` in reverse mode.

    Args:
        step: ``(carry, steps[t]) -> carry``, keeping the carry's shape and dtype.
        init: the initial carry.
        steps: ``[T, ...]`` tensor, iterated over its leading axis.

    Returns:
        The carry after ``T`` steps.
    """
    if keras.backend.backend() != "tensorflow":
        return ops.scan(lambda carry, x: (step(carry, x),) * 2, init, steps)[0]
    length = ops.shape(steps)[0]

    def body(t, carry):
        return t + 1, step(carry, steps[t])

    _, carry = ops.while_loop(lambda t, _: t < length, body, (0, init), maximum_iterations=length)
    return carry


@keras.saving.register_keras_serializable(package="rnnseq")
class CRF(keras.layers.Layer):
    """Linear-chain CRF over per-token emission potentials.

    The layer's ``call`` is the identity, so a model ending in it outputs the emission
    logits ``[B, T, L]`` and stays usable by ordinary Keras code (``predict``, metrics on
    argmax); the CRF's own weights enter only through ``log_likelihood`` (for the loss) and
    ``viterbi_decode`` (for prediction). Those two always compute in float32, even under a
    ``mixed_float16``/``mixed_bfloat16`` policy, because the forward algorithm sums scores
    over the whole sentence and float16 would lose them.

    Weights (all trainable, created at construction since they depend only on ``L``):
        transitions: ``[L, L]``, score of tag ``i`` followed by tag ``j`` at ``[i, j]``.
        start_transitions: ``[L]``, score of a sentence starting with each tag.
        end_transitions: ``[L]``, score of a sentence ending with each tag.

    All three start at zero, so an untrained CRF scores sequences exactly like
    independent per-token softmaxes do.

    Args:
        num_tags: ``L``, the number of tags.
        allowed_transitions: optional boolean ``[L, L]``; ``False`` at ``[i, j]`` forbids
            tag ``i`` followed by tag ``j`` (e.g. ``O`` -> ``I-PER`` in BIO).
        allowed_start: optional boolean ``[L]``; ``False`` forbids starting with a tag.
        allowed_end: optional boolean ``[L]``; ``False`` forbids ending with a tag.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``, ...).

    Forbidden entries add a constant ``FORBIDDEN_PENALTY`` (not trainable) both in the
    likelihood and in Viterbi, so decoded sequences are always well formed, provided the
    constraints leave at least one allowed sequence of each sentence's length (for length 1:
    a tag allowed both to start and to end).
    """

    def __init__(
        self,
        num_tags: int,
        allowed_transitions: Any = None,
        allowed_start: Any = None,
        allowed_end: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if int(num_tags) < 1:
            raise ValueError(f"num_tags must be >= 1, got {num_tags}")
        self.num_tags = int(num_tags)
        n = self.num_tags
        self.allowed_transitions = _as_list(allowed_transitions)
        self.allowed_start = _as_list(allowed_start)
        self.allowed_end = _as_list(allowed_end)
        self._transition_penalty = _penalty(allowed_transitions, (n, n), "allowed_transitions")
        self._start_penalty = _penalty(allowed_start, (n,), "allowed_start")
        self._end_penalty = _penalty(allowed_end, (n,), "allowed_end")
        # autocast=False: under a mixed-precision policy Keras would otherwise hand these
        # float32 weights out as float16 inside any layer's call, and the CRF sums them.
        weight = {"initializer": "zeros", "dtype": "float32", "autocast": False}
        self.transitions = self.add_weight(shape=(n, n), name="transitions", **weight)
        self.start_transitions = self.add_weight(shape=(n,), name="start_transitions", **weight)
        self.end_transitions = self.add_weight(shape=(n,), name="end_transitions", **weight)
        self.supports_masking = True
        self.built = True

    def call(self, potentials, mask=None):
        """Returns ``potentials`` ``[B, T, L]`` unchanged (the mask propagates with them)."""
        return potentials

    def compute_output_shape(self, input_shape):
        """The output shape is the input's: ``[B, T, L]``."""
        return input_shape

    def _constrained_weights(self):
        """Returns (transitions [L, L], start [L], end [L]) in float32 with penalties added."""
        transitions = ops.cast(self.transitions, "float32") + ops.convert_to_tensor(self._transition_penalty)
        start = ops.cast(self.start_transitions, "float32") + ops.convert_to_tensor(self._start_penalty)
        end = ops.cast(self.end_transitions, "float32") + ops.convert_to_tensor(self._end_penalty)
        return transitions, start, end

    def _prepare(self, potentials, mask):
        """Casts inputs to float32 and packs them time-major for the time loops.

        Args:
            potentials: ``[B, T, L]`` emission scores of any float dtype.
            mask: ``[B, T]`` bool/int, or None for "every position is real".

        Returns:
            ``(potentials [B, T, L] float32, mask [B, T] bool, steps [T, B, L + 1] float32)``.
            ``steps[t, b, :L]`` are the potentials and ``steps[t, b, L]`` is 1.0 where step
            ``t`` must update row ``b``'s state: a real token other than position 0. The loops
            initialise their state from position 0 and then scan over all ``T`` positions
            with position 0 a no-op, which avoids scanning an empty sequence when ``T == 1``
            (the TensorFlow ``scan`` cannot stack zero steps of unknown shape). Potentials and
            mask travel in one tensor because the TensorFlow ``scan`` of Keras 3.15 crashes on
            a tuple ``xs`` whose time length is unknown at trace time (``tf.function`` with a
            ``None`` time dimension, as in ``fit`` on variable-length batches).
        """
        potentials = ops.cast(potentials, "float32")
        if mask is None:
            mask = ops.ones(ops.shape(potentials)[:2], dtype="bool")
        mask = ops.cast(mask, "bool")
        not_first = ops.expand_dims(ops.arange(ops.shape(mask)[1]) > 0, 0)  # [1, T]
        updates = ops.cast(ops.logical_and(mask, not_first), "float32")  # [B, T]
        steps = ops.concatenate([potentials, updates[:, :, None]], axis=2)
        return potentials, mask, ops.transpose(steps, (1, 0, 2))

    def _gold_score(self, potentials, tags, mask, transitions, start, end):
        """Scores the given tag sequences.

        Args:
            potentials: ``[B, T, L]`` float32.
            tags: ``[B, T]`` int32, clipped into ``[0, L)`` (padded positions may hold any
                value, e.g. -1, they are masked out).
            mask: ``[B, T]`` bool.
            transitions, start, end: the constrained float32 weights.

        Returns:
            ``[B]`` float32, ``score(tags)`` per sentence.
        """
        maskf = ops.cast(mask, "float32")
        # A one-hot product rather than take_along_axis, which in the TensorFlow backend
        # fails on a tf.Variable (ops.cast/convert_to_tensor hand a float32 one back as is).
        gold_emissions = potentials * ops.one_hot(tags, self.num_tags, dtype="float32")
        emissions = ops.sum(gold_emissions, axis=2)  # [B, T]
        score = ops.sum(emissions * maskf, axis=1) + ops.take(start, tags[:, 0])
        pair_index = tags[:, :-1] * self.num_tags + tags[:, 1:]  # [B, T-1]
        pair_scores = ops.take(ops.reshape(transitions, (-1,)), pair_index)
        score = score + ops.sum(pair_scores * maskf[:, 1:], axis=1)
        last = ops.sum(ops.cast(mask, "int32"), axis=1) - 1  # [B], each row's last token
        last_tags = ops.squeeze(ops.take_along_axis(tags, last[:, None], axis=1), 1)
        return score + ops.take(end, last_tags)

    def _split_step(self, step):
        """Splits one packed ``[B, L + 1]`` step into (emissions [B, L], update [B, 1] bool)."""
        return step[:, : self.num_tags], step[:, self.num_tags :] > 0.5

    def _log_partition(self, steps, transitions, start, end):
        """Forward algorithm: ``log Z`` per sentence.

        ``alpha[b, j]`` is the log-sum of scores of all prefixes ending in tag ``j``. After a
        row's last real token its alpha is carried unchanged, so adding ``end`` once after
        the loop adds it at each row's own last token.

        Args:
            steps: ``[T, B, L + 1]`` float32, packed by ``_prepare``.
            transitions, start, end: the constrained float32 weights.

        Returns:
            ``[B]`` float32.
        """
        alpha0 = start[None, :] + steps[0, :, : self.num_tags]  # [B, L]

        def step(alpha, packed):
            emission, update = self._split_step(packed)  # [B, L], [B, 1]
            scores = alpha[:, :, None] + transitions[None, :, :]  # [B, L_from, L_to]
            new_alpha = ops.logsumexp(scores, axis=1) + emission
            return ops.where(update, new_alpha, alpha)

        alpha = _fold(step, alpha0, steps)
        return ops.logsumexp(alpha + end[None, :], axis=1)

    def log_likelihood(self, potentials, tags, mask=None):
        """Log-probability of the gold tag sequences under the CRF.

        Args:
            potentials: ``[B, T, L]`` emission scores (any float dtype; computed in float32).
            tags: ``[B, T]`` integer gold tags; values at padded positions are ignored.
            mask: ``[B, T]`` bool/int, right-padded, every row of length >= 1; None means
                no padding.

        Returns:
            ``[B]`` float32, ``log p(tags | potentials)`` per sentence (``<= 0``).
        """
        potentials, mask, steps = self._prepare(potentials, mask)
        transitions, start, end = self._constrained_weights()
        tags = ops.clip(ops.cast(tags, "int32"), 0, self.num_tags - 1)
        gold = self._gold_score(potentials, tags, mask, transitions, start, end)
        log_z = self._log_partition(steps, transitions, start, end)
        return gold - log_z

    def negative_log_likelihood(self, potentials, tags, mask=None):
        """``-log_likelihood``: ``[B]`` float32 per-sentence losses to average for training."""
        return -self.log_likelihood(potentials, tags, mask)

    def viterbi_decode(self, potentials, mask=None):
        """Finds the highest-scoring tag sequence of each sentence.

        At padded steps the forward pass keeps each row's scores and records identity
        back-pointers, so backtracking from the final position walks unchanged back to the
        row's own last real token and then follows the real back-pointers.

        Args:
            potentials: ``[B, T, L]`` emission scores (any float dtype; computed in float32).
            mask: ``[B, T]`` bool/int, right-padded, every row of length >= 1; None means
                no padding.

        Returns:
            ``(tags, best_scores)``: ``tags`` ``[B, T]`` int32 with 0 at padded positions,
            and ``best_scores`` ``[B]`` float32, the score (unnormalised log-potential) of
            the returned sequence, forbidden-transition penalties included.
        """
        _, mask, steps = self._prepare(potentials, mask)
        transitions, start, end = self._constrained_weights()
        score0 = start[None, :] + steps[0, :, : self.num_tags]  # [B, L]
        identity = ops.arange(self.num_tags, dtype="int32")[None, :]  # [1, L]

        def forward(carry, inputs):
            score, _ = carry
            emission, update = self._split_step(inputs)  # [B, L], [B, 1]
            candidates = score[:, :, None] + transitions[None, :, :]  # [B, L_from, L_to]
            best_prev = ops.cast(ops.argmax(candidates, axis=1), "int32")  # [B, L_to]
            new_score = ops.max(candidates, axis=1) + emission
            score = ops.where(update, new_score, score)
            pointers = ops.where(update, best_prev, identity)
            return (score, pointers), (score, pointers)

        init = (score0, ops.zeros_like(ops.cast(score0, "int32")))
        (score, _), (_, pointers_tm) = ops.scan(forward, init, steps)
        final = score + end[None, :]
        best_scores = ops.max(final, axis=1)
        last_tag = ops.cast(ops.argmax(final, axis=1), "int32")  # [B]

        def backward(tag, pointers):
            # ``tag`` is the tag at this step; the pointers give the one before it.
            previous = ops.squeeze(ops.take_along_axis(pointers, tag[:, None], axis=1), 1)
            return previous, tag

        _, tags_tm = ops.scan(backward, last_tag, pointers_tm, reverse=True)
        tags = ops.transpose(tags_tm, (1, 0))
        tags = ops.where(mask, tags, ops.zeros_like(tags))
        return ops.cast(tags, "int32"), best_scores

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments; the constraints as nested lists of bools."""
        config = super().get_config()
        config.update(
            {
                "num_tags": self.num_tags,
                "allowed_transitions": self.allowed_transitions,
                "allowed_start": self.allowed_start,
                "allowed_end": self.allowed_end,
            }
        )
        return config
