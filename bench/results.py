"""What one benchmark run measured, in the shapes the report reads."""

from dataclasses import dataclass, field

from .wrk import Result


@dataclass(frozen=True)
class LoadPoint:
    """One wrk run: a request shape ("submit", "home"...) at a concurrency."""

    name: str
    clients: int
    result: Result


@dataclass(frozen=True)
class Delivery:
    """Times from submit to "sent" on the status endpoint, in milliseconds."""

    condition: str
    times: list[float]
    # Probes that were still not sent when the benchmark stopped waiting.
    unfinished: int = 0
    # Messages waiting in the queue when the load stopped.
    backlog: int = 0


@dataclass(frozen=True)
class Drain:
    """A queue filled with the worker stopped, then drained by ``workers``."""

    worker_class: str
    workers: int
    smtp_delay_ms: int
    messages: int
    sent: int
    failed: int
    # From the worker's start to the last message settled (startup included).
    wall_seconds: float
    # From the first email accepted to the last one (steady state).
    span_seconds: float

    @property
    def rate(self) -> float:
        """Messages per second in the steady state."""
        if self.sent < 2 or self.span_seconds <= 0:
            return 0.0
        # ``span`` runs from the first message's first email to the last
        # message's last one: ``sent`` messages less the first one's claim.
        return self.sent / self.span_seconds

    @property
    def complete(self) -> bool:
        return self.sent + self.failed >= self.messages


@dataclass
class Results:
    points: list[LoadPoint] = field(default_factory=list)
    delivery: list[Delivery] = field(default_factory=list)
    drains: list[Drain] = field(default_factory=list)
    # Single-client posts: Django's time (Server-Timing) and the round trip.
    server_ms: list[float] = field(default_factory=list)
    round_trip_ms: list[float] = field(default_factory=list)
    # One worker's CPU by what it was doing: (group, share) largest first,
    # or why there is no profile.
    worker_profile: list[tuple[str, float]] = field(default_factory=list)
    worker_profile_note: str = ""
    web_peak_kib: int | None = None
    worker_peak_kib: int | None = None
    # Redis memory a message's job takes while queued, and once finished (RQ
    # keeps a finished job for its result_ttl).
    redis_bytes_queued: float | None = None
    redis_bytes_finished: float | None = None
    # What one message cost the worker's services in the first drain: Redis
    # commands, and PostgreSQL transactions (reads included).
    redis_commands_per_message: float | None = None
    pg_transactions_per_message: float | None = None
    # Redis connections opened during the submit runs, and the posts made.
    redis_connections_opened: int | None = None
    submit_posts: int = 0
    web_concurrency: int = 0
    seconds_per_point: float = 0
    quick: bool = False
    elapsed_seconds: float = 0

    def point(self, name: str, clients: int) -> LoadPoint | None:
        for point in self.points:
            if point.name == name and point.clients == clients:
                return point
        return None

    def drain(
        self, workers: int, delay_ms: int, worker_class: str = "ContactWorker"
    ) -> Drain | None:
        for drain in self.drains:
            if (drain.worker_class, drain.workers, drain.smtp_delay_ms) == (
                worker_class,
                workers,
                delay_ms,
            ):
                return drain
        return None
