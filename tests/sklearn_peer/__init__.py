"""scikit-learn's own SVM tests, run against glopt's drop-ins."""
