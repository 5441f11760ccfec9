"""The networks, their model files (safetensors, ONNX), and the store of trained ones."""
