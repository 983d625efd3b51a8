"""Classical item analysis of one assignment: how hard each question was, and how well it
separated strong from weak submissions.

For question ``i`` with maximum ``m_i``, scores ``x_si`` over the graded submissions ``s`` and
each submission's total ``T_s = Σ_i x_si``:

- **difficulty** ``p_i = mean_s(x_si) / m_i``, the mean fraction of the points earned (1: everyone
  got it; near 0: nobody did);
- **discrimination** ``r_i = corr(x_i, T)``, the Pearson correlation of the question's score
  with the total. For a question scored all-or-nothing this is the point-biserial
  correlation; for partial credit it is its usual generalisation. It is undefined (NaN) when
  every submission scored the same on the question, or the same in total.

Low or negative discrimination flags a question that strong students miss as often as weak
ones: ambiguous wording, or a test that checks the wrong thing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["item_statistics", "point_biserial"]


def point_biserial(item: np.ndarray, total: np.ndarray) -> float:
    """Pearson correlation of ``item`` and ``total``; NaN when either is constant."""
    item = np.asarray(item, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    if item.size < 2 or np.ptp(item) == 0 or np.ptp(total) == 0:
        return float("nan")
    return float(np.corrcoef(item, total)[0, 1])


def item_statistics(matrix: pd.DataFrame, points: Mapping[str, float]) -> pd.DataFrame:
    """Per question: points, mean, median, difficulty and discrimination.

    ``matrix`` is students × questions for the submissions to analyse (no missing values).
    """
    total = matrix.sum(axis=1).to_numpy()
    rows = []
    for question in matrix.columns:
        scores = matrix[question].to_numpy(dtype=np.float64)
        maximum = float(points[question])
        rows.append(
            {
                "question": question,
                "points": maximum,
                "mean": float(scores.mean()) if scores.size else float("nan"),
                "median": float(np.median(scores)) if scores.size else float("nan"),
                "difficulty": float(scores.mean() / maximum)
                if scores.size and maximum > 0
                else float("nan"),
                "discrimination": point_biserial(scores, total),
            }
        )
    return pd.DataFrame(
        rows, columns=["question", "points", "mean", "median", "difficulty", "discrimination"]
    )
