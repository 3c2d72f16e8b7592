// The cold start's baseline: node starting a script that does nothing, and ending.
