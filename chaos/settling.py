"""When the judge stops waiting for a run to converge after the day.

    settling = Settling(stall_s=300, max_s=1800, started=time.monotonic())
    while not settling.over(len(disagreements) + len(lost), time.monotonic()):
        ...  # judge again

A backlog still draining is late, not lost: the wait goes on while the count of what is wrong keeps falling,
and ends when it reaches nothing, when ``stall_s`` pass without it falling, or after ``max_s`` in all.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Settling:
    stall_s: float
    max_s: float
    started: float
    best: float = field(default=float("inf"), init=False)
    improved: float = field(default=0.0, init=False)

    def over(self, wrong: int, now: float) -> bool:
        """True once nothing is wrong, or nothing got better for ``stall_s``, or ``max_s`` have passed."""
        if wrong < self.best:
            self.best, self.improved = wrong, now
        return not wrong or now - self.improved > self.stall_s or now - self.started > self.max_s
