import numpy as np
import pytest

from glopt.datasets import KEEL_SETS, load_keel

PAPER_SETS = ["sonar", "haberman", "heart", "ionosphere", "breast", "wdbc", "german"]


@pytest.mark.parametrize("name", PAPER_SETS + ["banana", "phoneme"])
def test_binary_sets_load_raw_features(name):
    b = load_keel(name)
    assert b.data.dtype == np.float64 and np.all(np.isfinite(b.data))
    assert set(np.unique(b.target)) == {-1.0, 1.0}
    assert b.data.shape[0] == b.target.shape[0] == {"sonar": 208, "haberman": 306, "heart": 270,
                                                    "ionosphere": 351, "breast": 277, "wdbc": 569,
                                                    "german": 1000, "banana": 5300, "phoneme": 5404}[name]
    assert len(b.target_names) == 2


def test_raw_values_not_binned():
    X, _ = load_keel("sonar", return_X_y=True)
    assert len(np.unique(X[:, 0])) > 50 and X.max() <= 1.0 and X.min() >= 0.0  # real values in [0, 1]


def test_categorical_columns_are_one_hot():
    X, _ = load_keel("german", return_X_y=True)
    assert X.shape == (1000, 61)  # 7 numeric + one-hot of 13 categorical columns
    onehot = X[:, 7:]
    assert set(np.unique(onehot)) <= {0.0, 1.0}


def test_positive_class_mapping():
    b = load_keel("sonar")
    assert list(b.target_names) == ["R", "M"] and (b.target == 1).sum() == 111
    b = load_keel("sonar", positive="R")
    assert (b.target == 1).sum() == 97
    with pytest.raises(ValueError, match="positive"):
        load_keel("sonar", positive="X")


def test_multiclass_codes():
    b = load_keel("vehicle")
    assert list(b.target_names) == ["bus", "opel", "saab", "van"]
    assert set(b.target) == {0, 1, 2, 3}


def test_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown KEEL data set 'sonnar'"):
        load_keel("sonnar")
    assert "sonar" in KEEL_SETS
