"""What the user points us at: folders, image files, arrays, read into the model's input."""
