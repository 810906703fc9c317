"""What several test modules share: Hypothesis strategies, the in-process command line, the
MobileNet v1 reference from the paper's formulas, torchvision's published figures and the
PyTorch rebuilds of the mobile zoo. Test modules import from here, never from one another."""
