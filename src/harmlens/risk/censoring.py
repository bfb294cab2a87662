"""Training on snapshots whose horizon is only partly observed (inverse probability of censoring weights).

A snapshot less than a horizon before the training end has its follow-up cut short: a person with
no offence yet may still offend before the horizon ends. Dropping those snapshots (the pipeline's
default) throws away the most recent year; labelling them 0 would teach the model that recent
offenders stop. IPCW keeps every row whose binary label is known on the training end, i.e. an
offence seen within the follow-up, or a follow-up covering the whole horizon, and weights it by
1 / G(t-), where G is the Kaplan-Meier probability of still being under follow-up at t (t the day
of the offence, or the horizon) and censoring is the end of the data. Rows whose label is
unknown get weight 0. The weighted rows estimate the same P(offence within the horizon | features)
as fully observed snapshots as long as censoring is unrelated to the outcome given the features;
here it is administrative (the calendar date of the snapshot), which is the textbook case.
"""

from __future__ import annotations

import numpy as np

from harmlens.errors import HarmlensError


class CensoringError(HarmlensError):
    """Follow-up times that cannot be weighted."""


def censoring_survival(time: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier of the censoring distribution: distinct censoring times and G just after each."""
    t = np.asarray(time, dtype=float)
    c = np.asarray(censored, dtype=bool)
    times = np.unique(t[c])
    # at risk of being censored at s: every row still followed at s (its time >= s)
    t_sorted = np.sort(t)
    at_risk = len(t) - np.searchsorted(t_sorted, times, side="left")
    n_cens = np.bincount(np.searchsorted(times, t[c]), minlength=len(times))
    return times, np.cumprod(1.0 - n_cens / np.maximum(at_risk, 1))


def ipcw_weights(days_to_event: np.ndarray, followup_days: np.ndarray, horizon_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Observed binary labels and IPC weights for snapshots with follow-up ``followup_days`` (<= horizon).

    ``days_to_event`` is the day of the first outcome within the follow-up (NaN if none). Returns
    ``(label, weight)``: weight 0 where the label is unknown; the others are scaled to average 1.
    """
    T = np.asarray(days_to_event, dtype=float)
    C = np.asarray(followup_days, dtype=float)
    h = float(horizon_days)
    if T.shape != C.shape:
        raise CensoringError("days_to_event and followup_days must have the same length")
    if np.isnan(C).any() or (C <= 0).any() or (C > h + 1e-9).any():
        raise CensoringError(f"follow-up must be in (0, {h:g}] days")
    if (~np.isnan(T) & ((T < 0) | (T >= C))).any():
        raise CensoringError("an outcome falls outside its follow-up: labels and follow-up disagree")
    event = ~np.isnan(T)
    complete = event | (C >= h)
    time = np.where(event, T, C)
    times, G = censoring_survival(time, ~complete)
    # G(t-): the probability of still being followed just before t (censorings strictly earlier)
    k = np.searchsorted(times, time, side="left")
    g_before = np.where(k > 0, G[np.maximum(k - 1, 0)], 1.0)
    w = np.where(complete, 1.0 / np.maximum(g_before, 1e-12), 0.0)
    if complete.any():
        w = w * complete.sum() / w.sum()
    return event.astype(int), w
