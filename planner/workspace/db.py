"""The workspace database: what was planned, pinned, closed, done and changed.

SQLAlchemy 2 typed ORM. One schema serves SQLite (the default, a file at
``workspace/planner.db``) and PostgreSQL (``postgresql+psycopg://…``). The schema is created
and upgraded by the Alembic migrations in ``planner/workspace/migrations`` (see
:mod:`planner.workspace.store`); this module only declares the tables.

Dates are ``datetime.date``; times of day ``"HH:MM"`` strings; timestamps UTC.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

PLAN_STATUSES = ("draft", "published", "superseded")
HELD_VALUES = ("yes", "no", "cancelled")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base of every workspace table."""


class DatasetVersion(Base):
    """One set of input files, by the hash of their bytes."""

    __tablename__ = "dataset_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    data_dir: Mapped[str] = mapped_column(Text)
    files: Mapped[dict] = mapped_column(JSON)  # file name -> sha256
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PlanRecord(Base):
    """A run folder known to the workspace, with its configuration and status."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    run: Mapped[str] = mapped_column(String(200), unique=True)  # run folder name
    run_dir: Mapped[str] = mapped_column(Text)
    config: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    kind: Mapped[str] = mapped_column(String(20), default="plan")  # plan, replan, edit, next_cycle
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset_versions.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Pin(Base):
    """A village's visit fixed to a date (and optionally a time of day)."""

    __tablename__ = "pins"
    __table_args__ = (UniqueConstraint("village_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Edit(Base):
    """A hand edit of a run: move, drop or add one visit."""

    __tablename__ = "edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    result_plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    action: Mapped[str] = mapped_column(String(10))  # move, drop, add
    village_id: Mapped[str] = mapped_column(String(100))
    date: Mapped[dt.date] = mapped_column(Date)
    time: Mapped[str | None] = mapped_column(String(5), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Closure(Base):
    """A road segment (an ``id`` of the roads file) or a place closed from a date until a date."""

    __tablename__ = "closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # road, place
    target_id: Mapped[str] = mapped_column(String(100))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Outcome:
    """What a session gave: held or not (and why), readers, books, km; and where it was recorded from."""

    held: Mapped[str] = mapped_column(String(10))  # yes, no, cancelled
    reason: Mapped[str] = mapped_column(Text, default="")
    people: Mapped[int] = mapped_column(Integer, default=0)
    children: Mapped[int] = mapped_column(Integer, default=0)
    books_lent: Mapped[int] = mapped_column(Integer, default=0)
    books_returned: Mapped[int] = mapped_column(Integer, default=0)
    new_readers: Mapped[int] = mapped_column(Integer, default=0)
    km: Mapped[float] = mapped_column(Float, default=0.0)  # driving into this stop (planned, or as recorded)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")  # file it came from
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def adults(self) -> int:
        return self.people - self.children


class Visit(Outcome, Base):
    """What happened at one planned visit (one row of a visit sheet)."""

    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("date", "village_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    vehicle: Mapped[str] = mapped_column(String(100))
    village_id: Mapped[str] = mapped_column(String(100))
    village_name: Mapped[str] = mapped_column(Text)
    commune: Mapped[str] = mapped_column(Text)


class Restock(Outcome, Base):
    """A fixed library point restocked by the van (a ``site`` stop of a plan)."""

    __tablename__ = "restocks"
    __table_args__ = (UniqueConstraint("date", "site_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    vehicle: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[str] = mapped_column(String(100))
    site_name: Mapped[str] = mapped_column(Text)
    commune: Mapped[str] = mapped_column(Text)


class Audit(Base):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    who: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
