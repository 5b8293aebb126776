"""The live rooms over WebSocket: endpoint, protocol frames, and this worker's hub."""
