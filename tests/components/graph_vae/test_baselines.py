"""Heuristic scores on a hand-made graph, and AUC/AP against hand-computed values incl. ties."""

from __future__ import annotations

import math

import pytest
import torch

from astrobio.components.graph_vae.baselines import average_precision, baseline_scores, roc_auc

# 0-1, 0-2, 1-3, 2-3, 3-4, 4-5, 2-4   degrees: 2, 2, 3, 3, 3, 1
EDGES = torch.tensor([[0, 0, 1, 2, 3, 4, 2], [1, 2, 3, 3, 4, 5, 4]])
PAIRS = torch.tensor([[0, 1, 0, 0], [3, 2, 4, 5]])
LN2, LN3 = math.log(2), math.log(3)


def test_common_neighbours_adamic_adar_l3_on_a_hand_made_graph():
    s = baseline_scores(EDGES, 6, PAIRS, ("cn", "aa", "l3"))
    # (0,3): common {1,2}; (1,2): common {0,3}; (0,4): common {2}; (0,5): none
    assert s["cn"].tolist() == [2.0, 2.0, 1.0, 0.0]
    assert s["aa"] == pytest.approx(torch.tensor([1 / LN2 + 1 / LN3, 1 / LN2 + 1 / LN3, 1 / LN3, 0.0]))
    # L3: every path u-a-b-v adds 1/sqrt(k_a k_b)
    l3_03 = 1 / math.sqrt(3 * 3)                              # 0-2-4-3
    l3_12 = 1 / math.sqrt(3 * 3)                              # 1-3-4-2
    l3_04 = 1 / math.sqrt(2 * 3) + 1 / math.sqrt(3 * 3)      # 0-1-3-4, 0-2-3-4
    l3_05 = 1 / math.sqrt(3 * 3)                              # 0-2-4-5
    assert s["l3"] == pytest.approx(torch.tensor([l3_03, l3_12, l3_04, l3_05]))


def test_scores_use_only_the_edges_given():
    s = baseline_scores(EDGES[:, :1], 6, PAIRS, ("cn",))
    assert s["cn"].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_auc_and_ap_hand_computed_with_ties():
    pos, neg = torch.tensor([0.8, 0.4, 0.4]), torch.tensor([0.6, 0.4, 0.1])
    # AUC: 0.8 beats all three (3); each 0.4 beats 0.1, ties 0.4 (1.5 each) -> 6 / 9
    assert roc_auc(pos, neg) == pytest.approx(6 / 9)
    # AP: threshold 0.8 -> P=1, +1/3 recall; 0.6 -> no recall; 0.4 -> P=3/5, +2/3 recall
    assert average_precision(pos, neg) == pytest.approx(1 / 3 + 0.6 * 2 / 3)


@pytest.mark.parametrize("pos,neg,auc,ap", [
    ([3.0, 2.0], [1.0, 0.0], 1.0, 1.0),
    ([0.0, 1.0], [2.0, 3.0], 0.0, 0.5 / 3 + 0.5 / 2),  # ranked last: P = 1/3 at recall 1/2, 2/4 at 1
    ([1.0, 1.0], [1.0, 1.0], 0.5, 0.5),          # all tied: chance, whatever the order
    ([2.0, 0.0], [1.0], 0.5, 0.5 * 1 + 0.5 * 2 / 3),     # P = 1 at recall 1/2, 2/3 at 1
])
def test_auc_and_ap_edge_cases(pos, neg, auc, ap):
    assert roc_auc(torch.tensor(pos), torch.tensor(neg)) == pytest.approx(auc)
    assert average_precision(torch.tensor(pos), torch.tensor(neg)) == pytest.approx(ap)


def test_auc_does_not_depend_on_input_order_within_ties():
    pos, neg = torch.tensor([1.0, 0.0, 1.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    assert roc_auc(pos, neg) == roc_auc(pos.flip(0), neg.flip(0))
    assert average_precision(pos, neg) == average_precision(pos.flip(0), neg.flip(0))
