"""What the analyses measure with: judge networks, the window detector, metrics, D features, the
SVM and K-means probes, saliency, interventions on G's maps, latent-space primitives, hashing."""
