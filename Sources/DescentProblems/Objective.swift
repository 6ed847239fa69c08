// Objectives, data sets and the training loop (see issue 4).
