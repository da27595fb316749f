"""Reads an OCI image archive (oci-archive: a tar of an OCI image layout)."""
import hashlib
import io
import json
import tarfile


class Image:
    """The single image of an OCI archive: manifest, config and layers.

    digest_errors lists every blob whose content does not match its digest
    or size.
    """

    def __init__(self, path):
        self.archive_size = 0
        self.digest_errors = []
        with tarfile.open(path) as tar:
            self.blobs = {}
            for m in tar.getmembers():
                if m.isfile():
                    self.blobs[m.name.lstrip("./")] = tar.extractfile(m).read()
        self.layout = json.loads(self.blobs["oci-layout"])
        self.index = json.loads(self.blobs["index.json"])
        mdesc = self.index["manifests"][0]
        self.ref_name = mdesc.get("annotations", {}).get("org.opencontainers.image.ref.name")
        self.manifest = json.loads(self._blob(mdesc))
        self.config = json.loads(self._blob(self.manifest["config"]))
        self.layers = [self._blob(d) for d in self.manifest["layers"]]

    def _blob(self, desc):
        algo, hexd = desc["digest"].split(":", 1)
        data = self.blobs.get(f"blobs/{algo}/{hexd}")
        if data is None:
            self.digest_errors.append(f"{desc['digest']} missing")
            return b"{}"
        if hashlib.new(algo, data).hexdigest() != hexd or len(data) != desc["size"]:
            self.digest_errors.append(f"{desc['digest']} does not match its content")
        return data

    def files(self):
        """Yields (path, TarInfo, content or None) for every layer entry."""
        for layer in self.layers:
            with tarfile.open(fileobj=io.BytesIO(layer), mode="r:*") as tar:
                for m in tar.getmembers():
                    data = tar.extractfile(m).read() if m.isfile() else None
                    yield "/" + m.name.lstrip("./"), m, data
