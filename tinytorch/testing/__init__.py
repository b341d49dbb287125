"""Trusted helpers for kata tests. Learners read them, never edit them; each has its own tests."""

from tinytorch.testing.assertions import assert_close, returned
from tinytorch.testing.gradcheck import GradcheckError, gradcheck, gradcheck_tensors
from tinytorch.testing.memory import memory_budget

__all__ = ["GradcheckError", "assert_close", "gradcheck", "gradcheck_tensors", "memory_budget", "returned"]
