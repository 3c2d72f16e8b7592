/**
 * The manifests an image may have, by media type: Docker v2 and OCI, one
 * platform or an index of several. The one list the plugin (and its local
 * kit) asks registries for.
 */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export const MANIFEST_MEDIA_TYPES = [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_MANIFEST, OCI_INDEX] as const;

/** The media types of a manifest that lists other manifests (one per platform). */
export const INDEX_MEDIA_TYPES: ReadonlySet<string> = new Set([DOCKER_MANIFEST_LIST, OCI_INDEX]);

/** Layers a registry does not hold (Windows base layers): their descriptors carry URLs elsewhere. */
export const FOREIGN_LAYER_MEDIA_TYPES: readonly string[] = [
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];
