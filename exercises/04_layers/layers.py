# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
# The reference's imports are kept for you; until you use them, the linter is told not to mind
# (once your code uses them all, delete the next line: ruff then calls it unused, RUF100):
# ruff: noqa: F401
"""04 layers: parameters, modules, and the layers a network is built from.

A ``Parameter`` is a Tensor that always requires grad: a number the optimizer will train. A
``Module`` owns Parameters and other Modules as plain attributes; it finds them by looking at
its own attributes (``vars(self)``), in the order they were assigned, and names them with dots
(``block.fc1.weight``) as PyTorch does. On that tree sit the things every later kata uses:
``parameters()`` for the optimizer, ``train()``/``eval()`` for Dropout, ``state_dict()`` and
``load_state_dict()`` for checkpoints, and the layers themselves: ``Linear``, ``Sequential``,
``Dropout`` and the activations, plus Xavier and Kaiming initialization.

Randomness: everything random takes ``rng``, a ``np.random.Generator``. ``rng=None`` means this
module's own generator, seeded with 0 at import and reseeded by ``manual_seed(seed)`` (as
``torch.manual_seed``), so a script that never passes a generator is still reproducible. An int
seed is refused, not turned into a generator: ``Linear(4, 4, rng=0)`` twice would give two
identical layers. Make one generator, ``np.random.default_rng(seed)``, and pass it to each.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator

import numpy as np

from tinytorch import tensor as base
from tinytorch.autograd import Function, Tensor
from tinytorch.tensor import type_name

# --- randomness ---------------------------------------------------------------------------

_GENERATOR = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Given: reseed the generator that every ``rng=None`` draws from (as ``torch.manual_seed``).

    The generator is reseeded in place, so a layer that already holds it sees the new seed.
    """
    _GENERATOR.bit_generator.state = np.random.default_rng(seed).bit_generator.state


def generator(rng: np.random.Generator | None = None, op: str = "generator") -> np.random.Generator:
    """Given: ``rng`` itself, or this module's seeded generator (the one ``manual_seed`` reseeds) when None.

    ``op`` names the caller in the error. Raises TypeError
    ``"Linear: rng must be a np.random.Generator or None, got int (for a seed, pass np.random.default_rng(seed))"``.
    """
    if rng is None:
        return _GENERATOR
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{op}: rng must be a np.random.Generator or None, got {type_name(rng)}"
            " (for a seed, pass np.random.default_rng(seed))"
        )
    return rng


def returned(value, call: str):
    """Given: ``value``, unless it is None: then a TypeError saying that ``call`` forgot its ``return``.

    Given code that receives what one of your functions returned checks it here, so that a
    missing ``return`` is named where it happened, not as a TypeError in some other function.
    """
    if value is None:
        raise TypeError(f"{call} returned None — did you forget `return`?")
    return value


def _join(prefix: str, name: str) -> str:
    """Given: a dotted name, ``_join("block", "fc1") == "block.fc1"``, ``_join("", "fc1") == "fc1"``."""
    return f"{prefix}.{name}" if prefix else name


# --- step 1: Parameter and the module tree ------------------------------------------------


class Parameter(Tensor):
    """A Tensor that always requires grad: a leaf that an optimizer will update."""

    def __init__(self, data, dtype=None) -> None:
        """Wrap ``data`` as a trainable leaf; an ndarray of the right dtype is shared, not copied.

        Args:
            data: an ndarray, a Tensor (kata 01's or 03's), a nested list or a number (any shape N).
            dtype: converts (a copy) when it differs from ``data``'s.
        Raises:
            TypeError: ``"Parameter: dtype must be floating, got int64"`` (only floats have
                gradients).
        Complexity:
            O(1) for an ndarray of the right dtype; O(N) to convert anything else.
        Example:
            >>> Parameter(np.zeros(3)).requires_grad
            True
        """
        raise NotImplementedError("04 layers: implement Parameter.__init__ — see exercises/04_layers/README.md, step 1")

    def __repr__(self) -> str:
        """Given."""
        return f"Parameter({self.data!r})"


class Module:
    """The base of every layer and model: a tree of Parameters, buffers and sub-Modules.

    A subclass calls ``super().__init__()``, assigns its Parameters and Modules as attributes,
    and writes ``forward``. Calling the module calls ``forward``. A *buffer* is state that is
    saved with the model but not trained (09's BatchNorm2d keeps its running statistics so):
    an ndarray attribute whose name the class lists in ``buffer_names``.
    """

    buffer_names: tuple[str, ...] = ()  # this class's ndarray attributes that state_dict saves

    def __init__(self) -> None:
        """Given: a new module is in training mode."""
        self.training = True

    def forward(self, *args, **kwargs):
        """Given: what the module computes; every subclass writes its own."""
        raise NotImplementedError(f"{type(self).__name__}: a Module subclass must define forward")

    def __call__(self, *args, **kwargs):
        """Given: ``module(x, key=value)`` is ``module.forward(x, key=value)`` (which must return something).

        Example:
            >>> class Scale(Module):
            ...     def forward(self, x, factor=1):
            ...         return x * factor
            >>> Scale()(2, factor=3)
            6
        """
        return returned(self.forward(*args, **kwargs), f"{type(self).__name__}.forward()")

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct sub-Modules and their attribute names, in assignment order.

        Found by looking at the instance's attributes, ``vars(self)``, and keeping the Modules.
        A container (``Sequential``) overrides this method to name its members ``"0"``, ``"1"``...

        Returns:
            An iterator of ``(name, module)``.
        Complexity:
            O(number of attributes).
        Example:
            >>> [name for name, _ in Sequential(ReLU(), Tanh()).named_children()]
            ['0', '1']
        """
        raise NotImplementedError(
            "04 layers: implement Module.named_children — see exercises/04_layers/README.md, step 1"
        )

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every module below it, depth first.

        Args:
            prefix: the name of this module ("" for the root).
        Returns:
            An iterator of ``(dotted name, module)``, starting with ``(prefix, self)``.
        Complexity:
            O(modules in the tree); recursion as deep as the tree (a few levels, never a graph).
        Example:
            >>> [name for name, _ in Sequential(Linear(2, 3), ReLU()).named_modules()]
            ['', '0', '1']
        """
        raise NotImplementedError(
            "04 layers: implement Module.named_modules — see exercises/04_layers/README.md, step 1"
        )

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every Parameter of the tree with its dotted name, each once (a shared one, once).

        Module by module, as ``named_modules`` lists them; in each module, its own Parameter
        attributes in assignment order (PyTorch's order: own parameters before the children's).

        Returns:
            An iterator of ``(name, parameter)``, e.g. ``("block.fc1.weight", p)``.
        Complexity:
            O(modules + parameters) time; O(parameters) memory for the set of those seen.
        Example:
            >>> [name for name, _ in Sequential(Linear(2, 3), ReLU()).named_parameters()]
            ['0.weight', '0.bias']
        """
        raise NotImplementedError(
            "04 layers: implement Module.named_parameters — see exercises/04_layers/README.md, step 1"
        )

    def parameters(self) -> Iterator[Parameter]:
        """Given: the Parameters of ``named_parameters``, without their names."""
        for _, param in returned(self.named_parameters(), "named_parameters()"):
            yield param

    def children(self) -> Iterator[Module]:
        """Given: the Modules of ``named_children``, without their names."""
        for _, child in returned(self.named_children(), "named_children()"):
            yield child

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """Given: every buffer of the tree with its dotted name, e.g. ``("0.running_mean", array)``.

        Module by module, as ``named_modules`` lists them; in each, the arrays its class names
        in ``buffer_names``, in that order.
        """
        for module_name, module in returned(self.named_modules(), "named_modules()"):
            for name in module.buffer_names:
                yield _join(module_name, name), getattr(module, name)

    def named_arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """Given: what a checkpoint holds: each Parameter's array (``param.data``), then each buffer.

        The arrays themselves, not copies: writing into one (``array[...] = value``) changes
        the model.
        """
        for name, param in returned(self.named_parameters(), "named_parameters()"):
            yield name, param.data
        yield from self.named_buffers()

    # --- step 2: modes and gradients ------------------------------------------------------

    def train(self, mode: bool = True) -> Module:
        """Set ``training`` to ``mode`` in this module and every module below it.

        Args:
            mode: a bool (``np.bool_`` too).
        Returns:
            self (so that ``model = Net().train()`` reads well).
        Raises:
            TypeError: ``"train: mode must be a bool, got str"`` (``train("eval")`` would
                otherwise set ``training = "eval"``, which is true).
        Complexity:
            O(modules).
        Example:
            >>> Sequential(Dropout(0.5)).train(False)[0].training
            False
        """
        raise NotImplementedError("04 layers: implement Module.train — see exercises/04_layers/README.md, step 2")

    def eval(self) -> Module:
        """Given: ``train(False)``: Dropout becomes the identity."""
        return returned(self.train(False), "train()")

    def zero_grad(self) -> None:
        """Forget every parameter's gradient: ``grad = None`` (backward then starts afresh).

        Complexity:
            O(parameters); frees the gradients' memory instead of filling it with zeros.
        Example:
            >>> layer = Linear(2, 1)
            >>> layer(Tensor(np.ones((1, 2), dtype=np.float32))).sum().backward()
            >>> layer.zero_grad()
            >>> layer.weight.grad is None
            True
        """
        raise NotImplementedError("04 layers: implement Module.zero_grad — see exercises/04_layers/README.md, step 2")

    # --- step 3: checkpoints --------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """A snapshot of the model: dotted name -> a copy of each array of ``named_arrays``.

        Returns:
            A dict in ``named_arrays`` order (the Parameters, then the buffers); the arrays are
            copies, so training on afterwards does not change the snapshot.
        Complexity:
            O(parameters) time; memory: one copy of every parameter and buffer.
        Example:
            >>> sorted(Linear(2, 3).state_dict())
            ['bias', 'weight']
        """
        raise NotImplementedError("04 layers: implement Module.state_dict — see exercises/04_layers/README.md, step 3")

    def check_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Raise unless ``load_state_dict(state)`` would accept ``state``; change nothing.

        ``state`` fits when it is a dict with exactly the names of ``named_arrays`` (every
        Parameter and buffer), each value an ndarray of its array's shape and dtype (exactly: no
        silent conversion, the rule of 01, so a float64 checkpoint is rejected by a float32
        model), with finite values. ``load_state_dict`` calls it before writing anything; 07's
        ``load_checkpoint`` calls it before loading any other part of a checkpoint.

        Args:
            state: a dict, dotted name -> ndarray, as ``state_dict`` returns.
        Raises:
            TypeError: ``"load_state_dict: state must be a dict, got NoneType"``;
                ``"load_state_dict: fc1.weight must be an ndarray, got list"``;
                ``"load_state_dict: fc1.weight must have dtype float32, got float64"``.
            KeyError: ``"load_state_dict: state must hold every parameter and buffer, missing fc1.bias"``;
                ``"load_state_dict: state must hold only the model's parameters and buffers, got
                unexpected fc3.weight"``.
            ValueError: ``"load_state_dict: fc1.weight must have shape (4, 3), got (3, 4)"``;
                ``"load_state_dict: fc1.weight must be finite, got nan"`` (a diverged run's
                checkpoint would train on as NaN; read it with ``np.load`` to inspect it).
        Complexity:
            O(parameters) time; the finiteness check makes a boolean mask of the largest
            array's size (1 byte per element).
        Example:
            >>> Linear(2, 3).check_state_dict({"weight": np.zeros((3, 2), dtype=np.float32)})
            Traceback (most recent call last):
            ...
            KeyError: 'load_state_dict: state must hold every parameter and buffer, missing bias'
        """
        raise NotImplementedError(
            "04 layers: implement Module.check_state_dict — see exercises/04_layers/README.md, step 3"
        )

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state``'s arrays into the model's existing arrays (``named_arrays``), in place.

        In place: the Parameter objects (and their storage) stay the same, so an optimizer
        that holds them keeps working. ``check_state_dict(state)`` runs first, so a bad
        checkpoint leaves the model untouched.

        Args:
            state: a dict, dotted name -> ndarray, as ``state_dict`` returns.
        Raises:
            TypeError, KeyError, ValueError: ``check_state_dict``'s.
        Complexity:
            O(parameters) time; values are copied into the existing storage (no new array
            beyond ``check_state_dict``'s mask).
        Example:
            >>> a, b = Linear(2, 3), Linear(2, 3)
            >>> b.load_state_dict(a.state_dict())
            >>> bool((a.weight.numpy() == b.weight.numpy()).all())
            True
        """
        raise NotImplementedError(
            "04 layers: implement Module.load_state_dict — see exercises/04_layers/README.md, step 3"
        )


# --- step 4: initialization ---------------------------------------------------------------

GAINS = {"linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3.0, "relu": math.sqrt(2.0)}


def calculate_gain(nonlinearity: str) -> float:
    """Given: PyTorch's gain, the factor that keeps the variance through a nonlinearity.

    Raises ValueError ``"calculate_gain: nonlinearity must be one of linear, sigmoid, tanh, relu, got 'elu'"``.
    """
    if not isinstance(nonlinearity, str) or nonlinearity not in GAINS:
        raise ValueError(f"calculate_gain: nonlinearity must be one of {', '.join(GAINS)}, got {nonlinearity!r}")
    return GAINS[nonlinearity]


def check_init(op: str, tensor, gain: float = 1.0) -> None:
    """Given: raise unless ``tensor`` is a floating-point Tensor and ``gain`` a finite number >= 0.

    Writing random floats into an int tensor would truncate them to zeros, silently.
    Messages: ``"xavier_uniform_: tensor must be a Tensor, got ndarray"``,
    ``"xavier_uniform_: tensor must be floating-point, got int64"`` (TypeError),
    ``"xavier_uniform_: gain must be a finite number >= 0, got nan"`` (ValueError; TypeError
    for a string or a bool).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: tensor must be a Tensor, got {type_name(tensor)}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"{op}: tensor must be floating-point, got {tensor.dtype}")
    if isinstance(gain, bool) or not isinstance(gain, numbers.Real):
        raise TypeError(f"{op}: gain must be a finite number >= 0, got {type_name(gain)}")
    if not 0.0 <= gain < math.inf:  # `not` also rejects nan
        raise ValueError(f"{op}: gain must be a finite number >= 0, got {gain}")


def fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``, as PyTorch counts them.

    ``fan_in = in · k`` and ``fan_out = out · k``, where ``k`` is the product of the kernel
    dimensions (1 for a Linear weight ``(out, in)``).

    Raises:
        ValueError: ``"fans: weight must have at least 2 dimensions, got (3,)"``;
            ``"fans: weight must have no empty dimension, got (4, 0)"`` (a fan of 0 has no
            variance to keep: Kaiming's bound would divide by zero).
    Complexity:
        O(ndim).
    Example:
        >>> fans((4, 3)), fans((16, 8, 3, 3))
        ((3, 4), (72, 144))
    """
    raise NotImplementedError("04 layers: implement fans — see exercises/04_layers/README.md, step 4")


def xavier_uniform_(tensor: Tensor, rng: np.random.Generator | None = None, gain: float = 1.0) -> Tensor:
    """Fill ``tensor`` in place from U(-a, a), ``a = gain · √(6 / (fan_in + fan_out))``.

    Variance ``a² / 3 = gain² · 2 / (fan_in + fan_out)``: the average of what keeps the
    forward activations (fan_in) and the backward gradients (fan_out) at unit variance.

    Args:
        tensor: a floating Tensor or Parameter of shape ``(out, in, *kernel)``.
        rng: the generator (None: this module's, see ``manual_seed``).
        gain: from ``calculate_gain``, a finite number >= 0.
    Returns:
        ``tensor`` itself, its storage overwritten.
    Raises:
        TypeError: ``"xavier_uniform_: tensor must be floating-point, got int64"``; a tensor
            that is not a Tensor; ``"xavier_uniform_: rng must be a np.random.Generator or
            None, got int (...)"`` (an int seed is refused).
        ValueError: ``"xavier_uniform_: gain must be a finite number >= 0, got nan"``; from ``fans``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> w = xavier_uniform_(Parameter(np.zeros((4, 2))), np.random.default_rng(0))
        >>> bool(np.abs(w.numpy()).max() <= 1.0)
        True
    """
    raise NotImplementedError("04 layers: implement xavier_uniform_ — see exercises/04_layers/README.md, step 4")


def xavier_normal_(tensor: Tensor, rng: np.random.Generator | None = None, gain: float = 1.0) -> Tensor:
    """Fill ``tensor`` in place from N(0, σ²), ``σ = gain · √(2 / (fan_in + fan_out))``.

    Args, Returns and Raises: as ``xavier_uniform_``, naming ``xavier_normal_``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> xavier_normal_(Parameter(np.zeros((4, 2))), np.random.default_rng(0)).shape
        (4, 2)
    """
    raise NotImplementedError("04 layers: implement xavier_normal_ — see exercises/04_layers/README.md, step 4")


def kaiming_uniform_(tensor: Tensor, rng: np.random.Generator | None = None, nonlinearity: str = "relu") -> Tensor:
    """Fill ``tensor`` in place from U(-a, a), ``a = gain · √(3 / fan_in)`` (He et al., 2015).

    Variance ``gain² / fan_in``: with relu's gain √2, it makes up for relu zeroing half the
    inputs, so activations keep their variance from layer to layer.

    Args:
        tensor: a floating Tensor or Parameter of shape ``(out, in, *kernel)``.
        rng: the generator (None: this module's, see ``manual_seed``).
        nonlinearity: a name for ``calculate_gain``.
    Returns:
        ``tensor`` itself, its storage overwritten.
    Raises:
        TypeError: ``"kaiming_uniform_: tensor must be floating-point, got int64"``; a tensor
            that is not a Tensor; an rng that is not a Generator (as ``xavier_uniform_``).
        ValueError: from ``calculate_gain`` and ``fans``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> w = kaiming_uniform_(Parameter(np.zeros((4, 6))), np.random.default_rng(0))
        >>> bool(np.abs(w.numpy()).max() <= 1.0)
        True
    """
    raise NotImplementedError("04 layers: implement kaiming_uniform_ — see exercises/04_layers/README.md, step 4")


def kaiming_normal_(tensor: Tensor, rng: np.random.Generator | None = None, nonlinearity: str = "relu") -> Tensor:
    """Fill ``tensor`` in place from N(0, σ²), ``σ = gain / √fan_in``.

    Args, Returns and Raises: as ``kaiming_uniform_``, naming ``kaiming_normal_``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> kaiming_normal_(Parameter(np.zeros((4, 6))), np.random.default_rng(0)).shape
        (4, 6)
    """
    raise NotImplementedError("04 layers: implement kaiming_normal_ — see exercises/04_layers/README.md, step 4")


# --- step 5: Linear -----------------------------------------------------------------------


class LinearFunction(Function):
    """``x @ weightᵀ + bias`` as ONE recorded operation (PyTorch's ``F.linear``).

    Written with ``@``, ``.T`` and ``+``, a Linear layer records three Functions (Transpose,
    MatMul, Add), and each costs its Python overhead in the forward and again in the
    backward. One Function is one graph node: its backward is the derivative written out.
    """

    @staticmethod
    def forward(ctx, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
        """``x @ weightᵀ (+ bias)``; saves only what the backward needs (``ctx.needs_input_grad``).

        The bias is added in place into the fresh product: one buffer of the output's size.
        ``x`` is saved only if the weight needs its gradient, ``weight`` only if ``x`` does.

        Args:
            ctx: the Function instance (its ``needs_input_grad`` is set).
            x: (..., C_in); weight: (C_out, C_in); bias: (C_out,) or None; one floating dtype.
        Returns:
            (..., C_out), in x's dtype.
        Complexity:
            2 · R · C_in · C_out FLOPs, R the rows (the product of x's leading sizes). Memory:
            the output only (``weight.T`` is a view; nothing else is copied).
        Example:
            >>> LinearFunction.apply(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))).shape
            (2, 4)
        """
        raise NotImplementedError(
            "04 layers: implement LinearFunction.forward — see exercises/04_layers/README.md, step 5"
        )

    @staticmethod
    def backward(ctx, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """dL/dx = g·W, dL/dW = gᵀ·x, dL/db = Σ g (sums over every leading dimension of x).

        Each gradient only when its ``ctx.needs_input_grad`` flag is set, ``None`` otherwise (an
        input batch needs none: a whole matrix product saved per layer per step).

        Args:
            ctx: as the forward left it.
            grad: dL/d(output), (..., C_out), the output's dtype.
        Returns:
            ``(grad_x, grad_weight)``, or ``(grad_x, grad_weight, grad_bias)`` when there was a
            bias: shapes (..., C_in), (C_out, C_in), (C_out,), each in its input's dtype.
        Complexity:
            2 · R · C_in · C_out FLOPs per gradient of x or of the weight, R · C_out for the bias.
        Example:
            >>> x, w = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)), requires_grad=True)
            >>> LinearFunction.apply(x, w).sum().backward()
            >>> w.grad[0], x.grad is None
            (array([2., 2., 2.]), True)
        """
        raise NotImplementedError(
            "04 layers: implement LinearFunction.backward — see exercises/04_layers/README.md, step 5"
        )


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Given: ``x @ weightᵀ (+ bias)`` through ``LinearFunction`` (PyTorch's ``F.linear``).

    Without a bias, the Function has two inputs, not three: ``apply`` takes Tensors only.
    """
    if bias is None:
        return LinearFunction.apply(x, weight)
    return LinearFunction.apply(x, weight, bias)


class Linear(Module):
    """``y = x @ weightᵀ + bias``: the fully connected layer, with PyTorch's shapes and init."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        """Create ``weight`` (out_features, in_features) and ``bias`` (out_features,) or None.

        Init, PyTorch's default: weight and bias both from U(-1/√in, 1/√in), variance
        ``1 / (3 · in_features)`` (kaiming_uniform_ with PyTorch's a=√5 comes to this bound).
        The weight is drawn first, then the bias, from the same generator.

        Args:
            in_features (C_in), out_features (C_out): positive integers (a NumPy integer too; not a bool).
            bias: whether to add a bias, a bool.
            rng: the generator (None: this module's, see ``manual_seed``); an int seed is refused.
            dtype: of the parameters, floating-point.
        Raises:
            ValueError: ``"Linear: in_features must be a positive integer, got 0"`` (same for
                out_features, and the same ValueError for ``2.0`` or ``True``: not a positive integer).
            TypeError: ``"Linear: bias must be a bool, got Generator"`` (``Linear(3, 4, rng)``
                passes rng as bias); ``"Linear: rng must be a np.random.Generator or None, got int
                (...)"``; ``"Linear: dtype must be floating-point, got int64"``.
        Complexity:
            O(C_in · C_out) time; parameter memory ``(C_in · C_out + C_out) · itemsize``.
        Example:
            >>> Linear(3, 4).weight.shape
            (4, 3)
        """
        raise NotImplementedError("04 layers: implement Linear.__init__ — see exercises/04_layers/README.md, step 5")

    def forward(self, x: Tensor) -> Tensor:
        """``x @ weightᵀ + bias`` over the last dimension of ``x``.

        Args:
            x: shape (B, ..., C_in), the parameters' dtype, at least 2 dimensions.
        Returns:
            Shape (B, ..., C_out), the parameters' dtype.
        Raises:
            TypeError: ``"Linear: input must be a Tensor, got ndarray"``;
                ``"Linear: input must have dtype float32, got float64"``.
            ValueError: ``"Linear: input must have at least 2 dimensions (a batch), got (3,)"``;
                ``"Linear: input must have 3 features in its last dimension, got (2, 4)"``.
        Complexity:
            2 · R · C_in · C_out FLOPs, R the rows (B times the other leading sizes). Memory: the
            output only (the bias is added into it in place; ``weight.T`` is a view: no copy).
        Example:
            >>> Linear(3, 4)(Tensor(np.ones((2, 3), dtype=np.float32))).shape
            (2, 4)
        """
        raise NotImplementedError("04 layers: implement Linear.forward — see exercises/04_layers/README.md, step 5")


# --- step 6: containers and activations ---------------------------------------------------


class Sequential(Module):
    """Modules applied one after the other; its members are named "0", "1", ... (as PyTorch)."""

    def __init__(self, *modules: Module) -> None:
        """Keep the modules, in order, in a list ``self.layers``.

        Raises:
            TypeError: ``"Sequential: every layer must be a Module, got int"``.
        Example:
            >>> len(Sequential(ReLU(), Tanh()).layers)
            2
        """
        raise NotImplementedError(
            "04 layers: implement Sequential.__init__ — see exercises/04_layers/README.md, step 6"
        )

    def __len__(self) -> int:
        """Given."""
        return len(self.layers)

    def __getitem__(self, index: int) -> Module:
        """Given: the module at ``index`` (an int; negative counts from the end)."""
        return self.layers[index]

    def __iter__(self) -> Iterator[Module]:
        """Given."""
        return iter(self.layers)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The members, named by their position: ``("0", first), ("1", second), ...``.

        The members live in a list, which ``vars(self)`` shows as one attribute that is not a
        Module: this override is how a container shows its members to the tree.

        Example:
            >>> [name for name, _ in Sequential(ReLU(), ReLU()).named_children()]
            ['0', '1']
        """
        raise NotImplementedError(
            "04 layers: implement Sequential.named_children — see exercises/04_layers/README.md, step 6"
        )

    def forward(self, x):
        """Each member applied to the previous one's output: ``f_n(... f_1(f_0(x)))``.

        Complexity:
            The members' costs summed; holds what the members hold.
        Example:
            >>> Sequential(ReLU(), Tanh())(Tensor([-1.0, 0.0])).numpy()
            array([0., 0.])
        """
        raise NotImplementedError("04 layers: implement Sequential.forward — see exercises/04_layers/README.md, step 6")


def check_tensor(op: str, x) -> None:
    """Given: raise ``TypeError("ReLU: input must be a Tensor, got ndarray")`` unless ``x`` is a Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type_name(x)}")


class ReLU(Module):
    """``max(x, 0)``, as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.relu; raises ``TypeError("ReLU: input must be a Tensor, got ndarray")``.

        Example:
            >>> ReLU()(Tensor([-1.0, 2.0])).numpy()
            array([0., 2.])
        """
        raise NotImplementedError("04 layers: implement ReLU.forward — see exercises/04_layers/README.md, step 6")


class Tanh(Module):
    """``tanh(x)``, as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.tanh; raises ``TypeError("Tanh: input must be a Tensor, got ndarray")``.

        Example:
            >>> Tanh()(Tensor([0.0])).numpy()
            array([0.])
        """
        raise NotImplementedError("04 layers: implement Tanh.forward — see exercises/04_layers/README.md, step 6")


class Sigmoid(Module):
    """``1 / (1 + e^-x)``, as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.sigmoid; raises ``TypeError("Sigmoid: input must be a Tensor, got ndarray")``.

        Example:
            >>> Sigmoid()(Tensor([0.0])).numpy()
            array([0.5])
        """
        raise NotImplementedError("04 layers: implement Sigmoid.forward — see exercises/04_layers/README.md, step 6")


class GELU(Module):
    """GELU (02's tanh approximation), as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.gelu; raises ``TypeError("GELU: input must be a Tensor, got ndarray")``.

        Example:
            >>> GELU()(Tensor([0.0])).numpy()
            array([0.])
        """
        raise NotImplementedError("04 layers: implement GELU.forward — see exercises/04_layers/README.md, step 6")


# --- step 7: Dropout ----------------------------------------------------------------------


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p, scale the rest."""

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        """Remember ``p`` and the generator, as the attributes ``p`` and ``rng``.

        ``rng`` is the generator every mask is drawn from: the one given, or, for None, this
        module's shared generator, the one ``manual_seed`` reseeds (``generator()``), never a
        new one. Kata 07 saves and restores ``dropout.rng`` to resume a run exactly.

        Args:
            p: the probability of dropping an element, a real number in [0, 1).
            rng: a ``np.random.Generator`` or None; an int seed is refused.
        Raises:
            TypeError: ``"Dropout: p must be a real number, got str"`` (a bool too);
                ``"Dropout: rng must be a np.random.Generator or None, got int (...)"``.
            ValueError: ``"Dropout: p must be in [0, 1), got 1.0"`` (nan too).
        Example:
            >>> Dropout(0.1).p
            0.1
        """
        raise NotImplementedError("04 layers: implement Dropout.__init__ — see exercises/04_layers/README.md, step 7")

    def forward(self, x: Tensor) -> Tensor:
        """In training: ``x · mask``, mask 1/(1-p) with probability 1-p and 0 otherwise; in eval: x.

        ``E[mask] = (1 - p) · 1/(1 - p) = 1``: the expectation of every element is kept, so
        the next layer sees the same scale in training and in eval, and eval needs no change.

        Args:
            x: float32 or float64 Tensor, any shape (N elements).
        Returns:
            In eval (or p == 0): ``x`` itself, the same object. In training: a new Tensor of x's
            shape and dtype; the mask is drawn from ``self.rng``.
        Raises:
            TypeError: ``"Dropout: input must be a Tensor, got ndarray"``;
                ``"Dropout: input must have dtype float32 or float64, got float16"``.
        Complexity:
            O(N); in training, a mask of x's size and dtype, a boolean array of N bytes and the
            output. In eval, nothing.
        Example:
            >>> Dropout(0.5).eval()(Tensor([1.0, 2.0])).numpy()
            array([1., 2.])
        """
        raise NotImplementedError("04 layers: implement Dropout.forward — see exercises/04_layers/README.md, step 7")


# --- step 8: what a model costs -----------------------------------------------------------


def count_parameters(module: Module) -> int:
    """The number of trainable numbers in ``module``: the sum of its parameters' sizes.

    A parameter shared by two layers counts once. For a Linear: ``in · out + out``.

    Raises:
        TypeError: ``"count_parameters: module must be a Module, got list"``.
    Complexity:
        O(parameters).
    Example:
        >>> count_parameters(Linear(3, 4))
        16
    """
    raise NotImplementedError("04 layers: implement count_parameters — see exercises/04_layers/README.md, step 8")


def parameter_bytes(module: Module) -> int:
    """The bytes the parameters take: ``Σ size · itemsize`` (what a checkpoint weighs).

    Raises:
        TypeError: ``"parameter_bytes: module must be a Module, got list"``.
    Complexity:
        O(parameters).
    Example:
        >>> parameter_bytes(Linear(3, 4))
        64
    """
    raise NotImplementedError("04 layers: implement parameter_bytes — see exercises/04_layers/README.md, step 8")
