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
        # solution: step 1
        # base.Tensor: kata 01's Tensor, which 03's extends; np.asarray of one would be an object array.
        array = np.asarray(data.data if isinstance(data, base.Tensor) else data, dtype=dtype)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter: dtype must be floating, got {array.dtype}")
        super().__init__(array, requires_grad=True)

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
        # solution: step 1
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

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
        # solution: step 1
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(_join(prefix, name))

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
        # solution: step 1
        seen = set()  # ids: a parameter shared by two modules (tied weights) is yielded once
        for module_name, module in self.named_modules():
            for name, value in vars(module).items():
                if isinstance(value, Parameter) and id(value) not in seen:
                    seen.add(id(value))
                    yield _join(module_name, name), value

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
        # solution: step 2
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"train: mode must be a bool, got {type_name(mode)}")
        for _, module in self.named_modules():
            module.training = bool(mode)
        return self

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
        # solution: step 2
        for param in self.parameters():
            param.grad = None

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
        # solution: step 3
        return {name: array.copy() for name, array in self.named_arrays()}

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
        # solution: step 3
        if not isinstance(state, dict):
            raise TypeError(f"load_state_dict: state must be a dict, got {type_name(state)}")
        arrays = dict(self.named_arrays())
        missing = [name for name in arrays if name not in state]
        if missing:
            raise KeyError(f"load_state_dict: state must hold every parameter and buffer, missing {', '.join(missing)}")
        unexpected = [str(name) for name in state if name not in arrays]
        if unexpected:
            raise KeyError(
                "load_state_dict: state must hold only the model's parameters and buffers, "
                f"got unexpected {', '.join(unexpected)}"
            )
        for name, array in arrays.items():
            value = state[name]
            if not isinstance(value, np.ndarray):
                raise TypeError(f"load_state_dict: {name} must be an ndarray, got {type_name(value)}")
            if value.shape != array.shape:
                raise ValueError(f"load_state_dict: {name} must have shape {array.shape}, got {value.shape}")
            if value.dtype != array.dtype:
                raise TypeError(f"load_state_dict: {name} must have dtype {array.dtype}, got {value.dtype}")
            bad = value[~np.isfinite(value)]
            if bad.size:
                raise ValueError(f"load_state_dict: {name} must be finite, got {bad[0]}")

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
        # solution: step 3
        self.check_state_dict(state)
        for name, array in self.named_arrays():
            array[...] = state[name]  # into the existing storage: no new array


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
    # solution: step 4
    if len(shape) < 2:
        raise ValueError(f"fans: weight must have at least 2 dimensions, got {shape}")
    if 0 in shape:
        raise ValueError(f"fans: weight must have no empty dimension, got {shape}")
    receptive = math.prod(shape[2:])  # 1 for a (out, in) weight
    return shape[1] * receptive, shape[0] * receptive


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
    # solution: step 4
    check_init("xavier_uniform_", tensor, gain)
    fan_in, fan_out = fans(tensor.shape)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    tensor.data[...] = generator(rng, "xavier_uniform_").uniform(-bound, bound, size=tensor.shape)
    return tensor


def xavier_normal_(tensor: Tensor, rng: np.random.Generator | None = None, gain: float = 1.0) -> Tensor:
    """Fill ``tensor`` in place from N(0, σ²), ``σ = gain · √(2 / (fan_in + fan_out))``.

    Args, Returns and Raises: as ``xavier_uniform_``, naming ``xavier_normal_``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> xavier_normal_(Parameter(np.zeros((4, 2))), np.random.default_rng(0)).shape
        (4, 2)
    """
    # solution: step 4
    check_init("xavier_normal_", tensor, gain)
    fan_in, fan_out = fans(tensor.shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    tensor.data[...] = generator(rng, "xavier_normal_").normal(0.0, std, size=tensor.shape)
    return tensor


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
    # solution: step 4
    check_init("kaiming_uniform_", tensor)
    fan_in, _ = fans(tensor.shape)
    bound = calculate_gain(nonlinearity) * math.sqrt(3.0 / fan_in)
    tensor.data[...] = generator(rng, "kaiming_uniform_").uniform(-bound, bound, size=tensor.shape)
    return tensor


def kaiming_normal_(tensor: Tensor, rng: np.random.Generator | None = None, nonlinearity: str = "relu") -> Tensor:
    """Fill ``tensor`` in place from N(0, σ²), ``σ = gain / √fan_in``.

    Args, Returns and Raises: as ``kaiming_uniform_``, naming ``kaiming_normal_``.
    Complexity:
        O(N) time; one N-element float64 draw as a temporary.
    Example:
        >>> kaiming_normal_(Parameter(np.zeros((4, 6))), np.random.default_rng(0)).shape
        (4, 6)
    """
    # solution: step 4
    check_init("kaiming_normal_", tensor)
    fan_in, _ = fans(tensor.shape)
    std = calculate_gain(nonlinearity) / math.sqrt(fan_in)
    tensor.data[...] = generator(rng, "kaiming_normal_").normal(0.0, std, size=tensor.shape)
    return tensor


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
        # solution: step 5
        needs_x, needs_weight = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        ctx.save_for_backward(x if needs_weight else None, weight if needs_x else None)
        out = x @ weight.T  # (..., C_in) @ (C_in, C_out) -> (..., C_out), a new array
        if bias is not None:
            out += bias  # in place: (C_out,) broadcasts over every row, no second buffer
        return out

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
        # solution: step 5
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        out_features = grad.shape[-1]
        grad_x = grad_weight = grad_bias = None
        if needs[0]:
            grad_x = grad @ weight  # (..., C_out) @ (C_out, C_in) -> (..., C_in)
        if needs[1]:
            # NOTE: every leading dimension is a batch dimension: fold them into rows, then one
            # (C_out, R) @ (R, C_in) product sums over all of them.
            grad_weight = grad.reshape(-1, out_features).T @ x.reshape(-1, x.shape[-1])
        if len(needs) == 2:
            return grad_x, grad_weight
        if needs[2]:
            grad_bias = grad.reshape(-1, out_features).sum(axis=0)  # (C_out,)
        return grad_x, grad_weight, grad_bias


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
        # solution: step 5
        super().__init__()
        for what, value in (("in_features", in_features), ("out_features", out_features)):
            # NOTE: bool is an int subclass, but Linear(True, 4) is a mistake, not a size of 1.
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"Linear: {what} must be a positive integer, got {value}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Linear: bias must be a bool, got {type_name(bias)}")
        if np.dtype(dtype).kind != "f":  # Parameter would refuse it too, naming itself
            raise TypeError(f"Linear: dtype must be floating-point, got {np.dtype(dtype)}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        rng = generator(rng, "Linear")
        bound = 1.0 / math.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, size=(out_features, in_features)), dtype=dtype)
        self.bias = Parameter(rng.uniform(-bound, bound, size=out_features), dtype=dtype) if bias else None

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
        # solution: step 5
        if not isinstance(x, Tensor):  # an ndarray would meet the Tensor in `@` and make an object array
            raise TypeError(f"Linear: input must be a Tensor, got {type_name(x)}")
        if x.ndim < 2:
            raise ValueError(f"Linear: input must have at least 2 dimensions (a batch), got {x.shape}")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear: input must have {self.in_features} features in its last dimension, got {x.shape}"
            )
        if x.dtype != self.weight.dtype:
            raise TypeError(f"Linear: input must have dtype {self.weight.dtype}, got {x.dtype}")
        return linear(x, self.weight, self.bias)  # one graph node (LinearFunction)


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
        # solution: step 6
        super().__init__()
        for module in modules:
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: every layer must be a Module, got {type_name(module)}")
        self.layers = list(modules)

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
        # solution: step 6
        for position, module in enumerate(self.layers):
            yield str(position), module

    def forward(self, x):
        """Each member applied to the previous one's output: ``f_n(... f_1(f_0(x)))``.

        Complexity:
            The members' costs summed; holds what the members hold.
        Example:
            >>> Sequential(ReLU(), Tanh())(Tensor([-1.0, 0.0])).numpy()
            array([0., 0.])
        """
        # solution: step 6
        for module in self.layers:
            x = module(x)
        return x


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
        # solution: step 6
        check_tensor("ReLU", x)
        return x.relu()


class Tanh(Module):
    """``tanh(x)``, as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.tanh; raises ``TypeError("Tanh: input must be a Tensor, got ndarray")``.

        Example:
            >>> Tanh()(Tensor([0.0])).numpy()
            array([0.])
        """
        # solution: step 6
        check_tensor("Tanh", x)
        return x.tanh()


class Sigmoid(Module):
    """``1 / (1 + e^-x)``, as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.sigmoid; raises ``TypeError("Sigmoid: input must be a Tensor, got ndarray")``.

        Example:
            >>> Sigmoid()(Tensor([0.0])).numpy()
            array([0.5])
        """
        # solution: step 6
        check_tensor("Sigmoid", x)
        return x.sigmoid()


class GELU(Module):
    """GELU (02's tanh approximation), as a module (no parameters)."""

    def forward(self, x: Tensor) -> Tensor:
        """Tensor.gelu; raises ``TypeError("GELU: input must be a Tensor, got ndarray")``.

        Example:
            >>> GELU()(Tensor([0.0])).numpy()
            array([0.])
        """
        # solution: step 6
        check_tensor("GELU", x)
        return x.gelu()


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
        # solution: step 7
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(f"Dropout: p must be a real number, got {type_name(p)}")
        if not 0.0 <= p < 1.0:  # `not` also rejects nan
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = generator(rng, "Dropout")

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
        # solution: step 7
        if not isinstance(x, Tensor):
            raise TypeError(f"Dropout: input must be a Tensor, got {type_name(x)}")
        if x.dtype not in (np.float32, np.float64):  # the two dtypes Generator.random draws
            raise TypeError(f"Dropout: input must have dtype float32 or float64, got {x.dtype}")
        if not self.training or self.p == 0.0:
            return x
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p  # True with probability 1 - p
        mask = keep.astype(x.dtype)  # x's shape and dtype
        mask /= 1.0 - self.p  # NOTE: in place; scaling now means eval needs no rescaling
        return x * Tensor(mask)


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
    # solution: step 8
    if not isinstance(module, Module):
        raise TypeError(f"count_parameters: module must be a Module, got {type_name(module)}")
    return sum(param.size for param in module.parameters())


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
    # solution: step 8
    if not isinstance(module, Module):
        raise TypeError(f"parameter_bytes: module must be a Module, got {type_name(module)}")
    return sum(param.nbytes for param in module.parameters())
