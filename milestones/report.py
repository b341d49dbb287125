"""What a milestone found: its figures, its targets (met or missed) and its training curves.

A milestone's ``run`` returns a ``Result``; ``python -m milestones`` prints ``result.report()``,
saves ``result.save_plot(FILE)`` when asked, and exits non-zero unless ``result.passed``.
Standard library only: matplotlib is imported when a plot is asked for, and never required.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class BadOption(ValueError):
    """A milestone's own option has a value it cannot run with (``python -m milestones`` exits 2).

    Raised by a milestone's ``run`` before it does any work, with the message in the house
    template: ``"--tokens must be at most 496 (the context 512 minus the 16-token prompt), got 500"``.
    """


@dataclass(frozen=True)
class Target:
    """One thing a milestone promises: the rule, what was measured, and whether the rule held."""

    rule: str  # e.g. "test accuracy >= 97%"
    measured: str  # e.g. "98.06%"
    met: bool


@dataclass(frozen=True)
class Curve:
    """One panel of the plot: a value per step or epoch, for one or more series."""

    title: str  # e.g. "training loss"
    xlabel: str  # e.g. "epoch"
    series: dict[str, list[float]]  # label -> values


@dataclass
class Result:
    """A milestone's report: ``figures`` are (name, value) lines, in the order printed."""

    title: str
    figures: list[tuple[str, str]]
    targets: list[Target]
    curves: list[Curve] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether every target was met."""
        return all(target.met for target in self.targets)

    def report(self) -> str:
        """The figures, then one line per target, then the verdict (naming any missed target)."""
        lines = [self.title]
        lines += [f"  {name:<18}{value}" for name, value in self.figures]
        rule_width = max((len(target.rule) for target in self.targets), default=0)
        for target in self.targets:
            verdict = "met" if target.met else "MISSED"
            lines.append(f"  {'target':<18}{target.rule:<{rule_width}}  {target.measured:>10}  {verdict}")
        missed = [target for target in self.targets if not target.met]
        if missed:
            lines += [f"MISSED target: {target.rule} (measured {target.measured})" for target in missed]
        else:
            lines.append("every target met")
        return "\n".join(lines)

    def save_plot(self, path: str) -> str:
        """Save the curves as an image at ``path`` with matplotlib; returns what happened, in words."""
        try:
            import matplotlib
        except ModuleNotFoundError:
            return f"plot: matplotlib is not installed, so {path} was not written (pip install matplotlib)"
        if not any(values for curve in self.curves for values in curve.series.values()):
            return f"plot: nothing was trained, so {path} was not written"
        matplotlib.use("Agg")  # files only: no window, works without a display
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        figure, axes = plt.subplots(1, len(self.curves), figsize=(5 * len(self.curves), 3.8), squeeze=False)
        for axis, curve in zip(axes[0], self.curves, strict=True):
            for label, values in curve.series.items():
                axis.plot(range(1, len(values) + 1), values, label=label)
            axis.set_title(curve.title)
            axis.set_xlabel(curve.xlabel)
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
            if len(curve.series) > 1:
                axis.legend()
        figure.suptitle(self.title, fontsize=10)
        figure.tight_layout()
        figure.savefig(path, dpi=120)
        plt.close(figure)
        return f"plot: saved {path}"


def count(number: int) -> str:
    """``19210`` -> ``"19,210"``."""
    return f"{number:,}"


def percent(fraction: float) -> str:
    """``0.98056`` -> ``"98.06%"``."""
    return f"{100 * fraction:.2f}%"


def seconds(duration: float) -> str:
    """``1.4537`` -> ``"1.45 s"``."""
    return f"{duration:.2f} s"


def parameters(number: int, nbytes: int) -> str:
    """``"19,210 (76,840 bytes)"``: how many numbers are trained, and what they weigh."""
    return f"{count(number)} ({count(nbytes)} bytes)"
