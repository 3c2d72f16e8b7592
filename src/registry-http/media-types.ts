/** The manifests a registry holds for an image: Docker v2 and OCI, single-platform and index. */
export const IMAGE_MANIFEST_TYPES = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'];
export const INDEX_TYPES = ['application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.oci.image.index.v1+json'];
export const MANIFEST_TYPES = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES];
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Layers a registry does not hold (Windows base layers): their descriptors carry URLs elsewhere. */
export const FOREIGN_LAYER_TYPES = ['application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'];

export const DIGEST = /^sha256:[a-f0-9]{64}$/;
