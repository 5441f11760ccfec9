"""Prediction: batches through the model to rows, the second look, the prediction CSV."""
