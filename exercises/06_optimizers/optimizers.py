# Your kata: replace each `raise NotImplementedError(...)` with your code, in the lesson's order.
# Signatures and docstrings are the contract the tests hold you to: keep them.
"""06 optimizers: turning gradients into parameter updates, in place.

An optimizer holds a list of parameters (Tensors that require grad) and, after ``backward()``
has filled their ``.grad``, moves each one against its gradient. SGD needs nothing but the
gradient (plus a momentum buffer if asked); Adam keeps two running averages per parameter,
which is why training with Adam holds four times the parameters' bytes (parameters, gradients,
two moments) where plain SGD holds two.

Every update works on the raw ndarrays ``p.data`` and ``p.grad``, so ``step()`` records no
graph, and it works *in place*: ``p.data`` stays the same array (anything holding a view of
it sees the update), and once the state exists a step allocates one scratch array the size of
the parameter it is updating (Adam with L2 decay also needs the decayed gradient, one more).
The rules are PyTorch's (``torch.optim.SGD``, ``Adam``, ``AdamW``).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator

import numpy as np

from tinytorch.autograd import Tensor
from tinytorch.tensor import type_name


def check_nonnegative(op: str, **values: float) -> None:
    """Given: raise unless each value is a finite real number >= 0, naming the first bad one.

    Raises TypeError ``"<op>: <name> must be a real number, got str"`` (a bool is refused too),
    ValueError ``"<op>: <name> must be >= 0, got -0.1"`` (nan too) and
    ``"<op>: <name> must be finite, got inf"``.
    """
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{op}: {name} must be a real number, got {type_name(value)}")
        if not value >= 0:  # `not >=` also rejects nan
            raise ValueError(f"{op}: {name} must be >= 0, got {value}")
        if value == float("inf"):
            raise ValueError(f"{op}: {name} must be finite, got {value}")


def check_count(what: str, value) -> int:
    """Given: ``value`` as an int, or ``ValueError("load_state_dict: <what> must be an integer >= 0, got -1")``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"load_state_dict: {what} must be an integer >= 0, got {value!r}")
    return int(value)


# --- step 1: the optimizer holds the parameters --------------------------------------------


class Optimizer:
    """The parameters to train and the per-parameter state of the update rule.

    Attributes:
        params: the parameters, a list of Tensors that require grad.
        state: ``{parameter index: {name: ndarray or int}}``, filled by ``step()`` the first
            time a parameter is updated (a parameter never updated has no entry).
        step_count: how many times ``step()`` has run.

    A subclass sets ``hyperparameter_names`` (attributes that ``state_dict`` saves, named as
    the constructor's arguments), ``buffer_names`` (per-parameter arrays of the parameter's
    shape; those in ``nonnegative_buffer_names`` can never be negative) and ``counter_names``
    (per-parameter ints), and writes ``step()``.
    """

    hyperparameter_names: tuple[str, ...] = ()
    buffer_names: tuple[str, ...] = ()
    nonnegative_buffer_names: tuple[str, ...] = ()
    counter_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Tensor]) -> None:
        """Keep ``params`` as a list (a generator is read once), after checking each one.

        Args:
            params: an iterable of Tensors, each a leaf with ``requires_grad=True``, none twice.
        Raises:
            ValueError: ``"optimizer: params must contain at least one tensor, got an empty list"``;
                ``"optimizer: parameter 1 must require grad, got requires_grad=False"``;
                ``"optimizer: parameter 0 must be a leaf tensor, got the output of an operation"``;
                ``"optimizer: parameters must be distinct, got parameter 0 again at position 2"``.
            TypeError: ``"optimizer: params must be an iterable of Tensors, got a single Tensor"``;
                ``"optimizer: params must be an iterable of Tensors such as model.parameters(),
                got Linear"`` (a model itself, or anything that is not iterable);
                ``"optimizer: parameter 0 must be a Tensor, got ndarray"``.
        Complexity:
            O(len(params)) time and memory; the parameters are shared, never copied.
        Example:
            >>> w = Tensor(np.ones(3), requires_grad=True)
            >>> opt = Optimizer(w for w in [w])
            >>> opt.params[0] is w, opt.state, opt.step_count
            (True, {}, 0)
        """
        raise NotImplementedError(
            "06 optimizers: implement Optimizer.__init__ — see exercises/06_optimizers/README.md, step 1"
        )

    def zero_grad(self) -> None:
        """Forget every gradient: set each parameter's ``.grad`` to None (freeing it).

        None rather than zeros: no memory is held between steps, and ``backward()`` writes a
        fresh gradient instead of adding to an array of zeros.

        Complexity:
            O(len(params)) time; frees the gradients' bytes.
        Example:
            >>> w = Tensor(np.ones(2), requires_grad=True)
            >>> w.grad = np.ones(2)
            >>> Optimizer([w]).zero_grad()
            >>> w.grad is None
            True
        """
        raise NotImplementedError(
            "06 optimizers: implement Optimizer.zero_grad — see exercises/06_optimizers/README.md, step 1"
        )

    def parameters_with_grad(self) -> Iterator[tuple[int, Tensor]]:
        """Given: ``(index, parameter)`` for each parameter whose ``.grad`` is set; None is skipped.

        Raises TypeError ``"step: gradient of parameter 0 must be an ndarray, got list"`` and
        ``"step: gradient of parameter 0 must have its dtype float32, got float64"``; ValueError
        ``"step: gradient of parameter 1 must have its shape (3, 4), got (4, 3)"``. Values are not
        checked: a NaN or inf gradient makes its parameter NaN, as in PyTorch (watch the loss).
        """
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if not isinstance(p.grad, (np.ndarray, np.generic)):  # a NumPy scalar is a 0-d gradient
                raise TypeError(f"step: gradient of parameter {i} must be an ndarray, got {type_name(p.grad)}")
            if p.grad.dtype != p.dtype:  # in-place updates would convert it silently
                raise TypeError(f"step: gradient of parameter {i} must have its dtype {p.dtype}, got {p.grad.dtype}")
            if p.grad.shape != p.shape:
                raise ValueError(f"step: gradient of parameter {i} must have its shape {p.shape}, got {p.grad.shape}")
            yield i, p

    def step(self) -> None:
        """Given: update every parameter that has a gradient; each optimizer writes its own."""
        raise NotImplementedError(f"{type(self).__name__}.step: a subclass of Optimizer must define step()")

    # --- step 5: saving and restoring the optimizer ----------------------------------------

    def state_dict(self) -> dict:
        """A snapshot of the optimizer: hyper-parameters, step count, per-parameter state.

        Only plain values (dicts, numbers, tuples, ndarrays), no Tensor: it can be saved with
        ``np.savez`` or pickled, and loaded into an optimizer built on other parameter objects
        of the same shapes. The arrays are copies, so later steps do not change the snapshot.

        Returns:
            ``{"hyperparameters": {name: value}, "step_count": int,
            "state": {index: {name: ndarray or int}}}``.
        Complexity:
            O(state bytes) time and memory: one copy of every state array.
        Example:
            >>> w = Tensor(np.ones(2), requires_grad=True)
            >>> w.grad = np.ones(2)
            >>> opt = SGD([w], lr=0.5, momentum=0.9)
            >>> opt.step()
            >>> snapshot = opt.state_dict()
            >>> snapshot["hyperparameters"]["momentum"], snapshot["step_count"], snapshot["state"][0]
            (0.9, 1, {'momentum_buffer': array([1., 1.])})
        """
        raise NotImplementedError(
            "06 optimizers: implement Optimizer.state_dict — see exercises/06_optimizers/README.md, step 5"
        )

    def check_state_dict(self, state_dict: dict) -> dict:
        """Check all of ``state_dict`` against this optimizer and its parameters, changing nothing.

        It fits when it is a dict with the three keys of ``state_dict()``; its hyper-parameters
        have this optimizer's names and values that its constructor accepts (they are checked by
        the constructor itself: ``type(self)(self.params, **hyperparameters)``, whose errors
        say ``"SGD: lr must be >= 0, got -1"``); ``step_count`` is an integer >= 0; each state
        index is an int below ``len(params)``, holding exactly this optimizer's state names,
        each counter an integer >= 0 and each buffer a finite floating-point ndarray of its
        parameter's shape.

        Returns:
            The hyper-parameters as the constructor keeps them (e.g. ``betas`` as a tuple).
        Raises:
            TypeError: ``"load_state_dict: state_dict must be a dict, got NoneType"`` (also
                ``hyperparameters``, ``state`` and each entry of ``state``); the constructor's
                TypeErrors (``"SGD: lr must be a real number, got str"``).
            ValueError: ``"load_state_dict: keys must be ['hyperparameters', 'state', 'step_count'], got [...]"``;
                ``"load_state_dict: hyperparameters must be ['lr', 'momentum', ...], got [...]"``;
                the constructor's ValueErrors (``"Adam: betas must be in [0, 1), got (0.9, 1.5)"``);
                ``"load_state_dict: step_count must be an integer >= 0, got -1"``;
                ``"load_state_dict: state index must be in range(0, 2), got 5"``;
                ``"load_state_dict: state names of parameter 0 must be ['momentum_buffer'], got [...]"``;
                ``"load_state_dict: step of parameter 0 must be an integer >= 0, got -3"``;
                ``"load_state_dict: momentum_buffer of parameter 1 must be a floating-point ndarray, got list"``;
                ``"load_state_dict: momentum_buffer of parameter 1 must have shape (3, 4), got (4, 3)"``;
                ``"load_state_dict: exp_avg of parameter 0 must be finite, got nan"``;
                ``"load_state_dict: exp_avg_sq of parameter 0 must be >= 0, got -0.5"`` (a
                buffer of ``nonnegative_buffer_names``: Adam would take its square root).
        Complexity:
            O(len(params) + state elements) time (the finiteness check reads every buffer);
            the probe optimizer shares the parameters, so no memory beyond O(len(params)).
        Example:
            >>> opt = Adam([Tensor(np.ones(2), requires_grad=True)])
            >>> opt.check_state_dict({"hyperparameters": {}, "step_count": 0, "state": {}})
            Traceback (most recent call last):
            ValueError: load_state_dict: hyperparameters must be ['betas', 'eps', 'lr', 'weight_decay'], got []
        """
        raise NotImplementedError(
            "06 optimizers: implement Optimizer.check_state_dict — see exercises/06_optimizers/README.md, step 5"
        )

    @staticmethod
    def check_buffer(what: str, value, shape: tuple[int, ...], nonnegative: bool = False) -> None:
        """Given: raise ValueError unless ``value`` is a finite floating-point ndarray of ``shape``
        (with no negative element when ``nonnegative``)."""
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
            got = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else type_name(value)
            raise ValueError(f"load_state_dict: {what} must be a floating-point ndarray, got {got}")
        if value.shape != shape:
            raise ValueError(f"load_state_dict: {what} must have shape {shape}, got {value.shape}")
        bad = value[~np.isfinite(value)]
        if bad.size:
            raise ValueError(f"load_state_dict: {what} must be finite, got {bad[0]}")
        negative = value[value < 0]
        if nonnegative and negative.size:
            raise ValueError(f"load_state_dict: {what} must be >= 0, got {negative[0]}")

    def load_state_dict(self, state_dict: dict) -> None:
        """Continue from a snapshot made by ``state_dict()``: after loading, ``step()`` does
        exactly what the saved optimizer would have done.

        All or nothing: ``check_state_dict`` checks the whole snapshot first, and the new state
        is built aside, so a bad snapshot leaves the optimizer exactly as it was. Arrays are
        copied in, in the parameter's dtype: the snapshot and the optimizer share nothing
        afterwards.

        Args:
            state_dict: as made by ``state_dict()``, possibly by another optimizer object.
        Raises:
            TypeError, ValueError: as ``check_state_dict``.
        Complexity:
            O(state bytes) time and memory: the arrays are copied.
        Example:
            >>> w = Tensor(np.ones(2), requires_grad=True)
            >>> opt = SGD([w], lr=0.1, momentum=0.9)
            >>> opt.load_state_dict({"hyperparameters": {"lr": 0.5, "momentum": 0.5, "weight_decay": 0.0,
            ...     "nesterov": False}, "step_count": 3, "state": {0: {"momentum_buffer": np.ones(2)}}})
            >>> opt.lr, opt.step_count, opt.state[0]["momentum_buffer"]
            (0.5, 3, array([1., 1.]))
        """
        raise NotImplementedError(
            "06 optimizers: implement Optimizer.load_state_dict — see exercises/06_optimizers/README.md, step 5"
        )


# --- step 2: SGD ---------------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum, Nesterov momentum and L2 decay."""

    hyperparameter_names = ("lr", "momentum", "weight_decay", "nesterov")
    buffer_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        """Check the hyper-parameters and keep them (as attributes of the same names).

        Args:
            params: as for ``Optimizer``.
            lr: the learning rate, >= 0.
            momentum: μ, >= 0 (0: no momentum buffer at all).
            weight_decay: λ, >= 0, added to the gradient as λ·p (L2 regularization).
            nesterov: use Nesterov momentum (a bool); needs momentum > 0.
        Raises:
            TypeError: ``"SGD: lr must be a real number, got str"`` (also momentum,
                weight_decay); ``"SGD: nesterov must be a bool, got str"``; and as ``Optimizer``.
            ValueError: ``"SGD: lr must be >= 0, got -0.1"`` (also momentum, weight_decay; nan
                too); ``"SGD: lr must be finite, got inf"``;
                ``"SGD: momentum must be > 0 for nesterov, got 0.0"``; and as ``Optimizer``.
        Example:
            >>> w = Tensor(np.ones(2), requires_grad=True)
            >>> SGD([w], lr=0.1, momentum=0.9, nesterov=True).nesterov
            True
        """
        raise NotImplementedError(
            "06 optimizers: implement SGD.__init__ — see exercises/06_optimizers/README.md, step 2"
        )

    def update(self, index: int, param: np.ndarray, grad: np.ndarray) -> None:
        """The SGD update of one parameter array, in place (PyTorch's rule).

            g = grad + λ·p                          (L2 weight decay)
            b = g on the first step, else μ·b + g   (only when μ > 0)
            d = g + μ·b if nesterov, else b if μ > 0, else g
            p = p - lr·d

        Args:
            index: the parameter's position in ``params`` (its key in ``state``).
            param: its storage (N elements), updated in place.
            grad: its gradient, param's shape; not modified. For a 0-d parameter it may be a
                NumPy scalar (``backward()`` leaves one): the buffer must still be an ndarray.
        Complexity:
            O(N) time: 2 passes over N elements without momentum, 4 with it, 6 with nesterov,
            2 more with weight decay. Extra memory: one scratch array of N elements, freed on
            return; on the first call with momentum, the buffer (N elements, kept as state).
        Example:
            >>> opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=0.1, momentum=0.9)
            >>> w = np.array([1.0, 2.0])
            >>> opt.update(0, w, np.array([0.5, -1.0]))
            >>> w, opt.state[0]["momentum_buffer"]
            (array([0.95, 2.1 ]), array([ 0.5, -1. ]))
        """
        raise NotImplementedError("06 optimizers: implement SGD.update — see exercises/06_optimizers/README.md, step 2")

    def step(self) -> None:
        """``update`` every parameter that has a gradient, and count the step.

        Complexity:
            As ``update``, for each parameter in turn: the scratch array of one parameter is
            freed before the next one's is made, so the peak is the largest parameter's.
        Example:
            >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
            >>> w.grad = np.array([0.5, -1.0])
            >>> opt = SGD([w], lr=0.1)
            >>> opt.step()
            >>> w.numpy(), opt.step_count
            (array([0.95, 2.1 ]), 1)
        """
        raise NotImplementedError("06 optimizers: implement SGD.step — see exercises/06_optimizers/README.md, step 2")


# --- step 3: Adam --------------------------------------------------------------------------


class Adam(Optimizer):
    """Adam: per-element steps from running averages of the gradient and its square."""

    hyperparameter_names = ("lr", "betas", "eps", "weight_decay")
    buffer_names = ("exp_avg", "exp_avg_sq")
    nonnegative_buffer_names = ("exp_avg_sq",)  # a running average of squares
    counter_names = ("step",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        """Check the hyper-parameters and keep them (as attributes of the same names).

        Args:
            params: as for ``Optimizer``.
            lr: the learning rate, >= 0.
            betas: (β1, β2), a tuple or list of two real numbers, the decay rates of the two
                running averages, each in [0, 1); kept as a tuple.
            eps: ε >= 0, added to the denominator.
            weight_decay: λ >= 0 (Adam: added to the gradient as λ·p; AdamW: decoupled).
        Raises:
            TypeError: ``"Adam: lr must be a real number, got str"`` (also eps, weight_decay);
                ``"Adam: betas must be a pair of real numbers, got 0.9"``.
            ValueError: ``"Adam: lr must be >= 0, got -1"`` (also eps, weight_decay; nan too);
                ``"Adam: lr must be finite, got inf"``;
                ``"Adam: betas must be in [0, 1), got (0.9, 1.0)"`` (AdamW says "AdamW").
        Example:
            >>> w = Tensor(np.ones(2), requires_grad=True)
            >>> Adam([w]).betas
            (0.9, 0.999)
        """
        raise NotImplementedError(
            "06 optimizers: implement Adam.__init__ — see exercises/06_optimizers/README.md, step 3"
        )

    def update(self, index: int, param: np.ndarray, grad: np.ndarray) -> None:
        """The Adam update of one parameter array, in place, with bias correction.

            t = t + 1                                  (this parameter's own step count)
            m = β1·m + (1 - β1)·g                      (first moment; 0 before step 1)
            v = β2·v + (1 - β2)·g²                     (second moment; 0 before step 1)
            p = p - lr/(1 - β1^t) · m / (√v / √(1 - β2^t) + ε)

        Dividing by 1 - β^t undoes the pull towards the zeros m and v start from: at t = 1,
        m/(1 - β1) = g and √(v/(1 - β2)) = |g|, so the first step is lr·sign(g) whatever
        the gradient's scale.

        The new term of v is computed as ((1 - β2)·g)·g, never g·g first: g² overflows float32
        for |g| > 1.8e19 and v would become inf, which stops the parameter (m / inf = 0). So v
        stays finite while (1 - β2^t)·g² does (for a steady g): at β2 = 0.999, |g| up to 5.8e20
        at t = 1, 3.4e20 at t = 3. Float32 parameters are updated in float32: no float64 array
        or buffer.

        Args:
            index: the parameter's position in ``params`` (its key in ``state``).
            param: its storage (N elements), updated in place.
            grad: the gradient to use, param's shape; not modified (a NumPy scalar for a 0-d
                parameter, as ``backward()`` may leave: m and v are still ndarrays).
        Complexity:
            O(N) time, 12 passes over N elements. Extra memory: on the first call for a
            parameter, m and v (2·N elements, kept as state); on every call, one scratch array
            of N elements in param's dtype.
        Example:
            >>> w = Tensor(np.array([1.0, 1.0]), requires_grad=True)
            >>> opt = Adam([w], lr=0.1)
            >>> opt.update(0, w.data, np.array([3.0, -1e-4]))
            >>> (w.numpy() - 1.0).round(4), opt.state[0]["step"]  # both moved by lr = 0.1
            (array([-0.1,  0.1]), 1)
        """
        raise NotImplementedError(
            "06 optimizers: implement Adam.update — see exercises/06_optimizers/README.md, step 3"
        )

    def step(self) -> None:
        """One Adam step of every parameter that has a gradient, with L2 weight decay.

            g = grad + λ·p, then ``update`` with g.

        With λ > 0 the decay goes through the moments: it is divided by √v̂ like the
        gradient (AdamW decouples it).

        Complexity:
            As ``update``; with λ > 0, plus g = grad + λ·p (N elements, freed when ``update``
            returns; p.grad is left unchanged).
        Example:
            >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
            >>> w.grad = np.array([0.5, -1.0])
            >>> Adam([w], lr=0.1).step()
            >>> w.numpy().round(6)
            array([0.9, 2.1])
        """
        raise NotImplementedError("06 optimizers: implement Adam.step — see exercises/06_optimizers/README.md, step 3")


# --- step 4: AdamW -------------------------------------------------------------------------


class AdamW(Adam):
    """Adam with decoupled weight decay: p shrinks by (1 - lr·λ), apart from the gradient."""

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        """Given: Adam's checks and attributes; only the default weight decay differs (1e-2)."""
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def step(self) -> None:
        """One AdamW step of every parameter that has a gradient (PyTorch's rule).

            p = p · (1 - lr·λ)       (decoupled decay, before the Adam update)
            then ``update`` with the raw gradient.

        The decay no longer passes through m and v: every weight shrinks by the same factor,
        whatever its gradient history.

        Complexity:
            As ``update``: the decay is in place and allocates nothing.
        Example:
            >>> w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
            >>> w.grad = np.zeros(2)
            >>> AdamW([w], lr=0.1, weight_decay=0.5).step()
            >>> w.numpy()
            array([0.95, 1.9 ])
        """
        raise NotImplementedError("06 optimizers: implement AdamW.step — see exercises/06_optimizers/README.md, step 4")
