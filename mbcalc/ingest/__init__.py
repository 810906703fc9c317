"""A network from outside mbcalc made a spec: an ONNX file or a PyTorch module is read into one
form (`mbcalc.ingest.network`), its patterns recognised as the spec language's units, and the
spec written as YAML text that a person could have written."""
