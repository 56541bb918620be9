# The Python code of the OpenFL workspace fx-workspace.ts builds (copied into its src/): a numpy
# softmax-regression task runner and a CSV data loader, no torch or tensorflow.
