"""The true sums of an image folder: its labels.csv, the sums a person typed, their backup."""
