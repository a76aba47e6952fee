"""One module per AWS service; each exports KINDS, the resource types it creates."""
