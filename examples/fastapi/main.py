"""The Measurements API of seed 000, in FastAPI, guarded by fastapi-auth0.

fastapi-auth0 speaks only https: it builds every URL as `https://{domain}/…`,
expects the issuer `https://{domain}/` and reads the JWKS once, when `Auth0`
is constructed (so at import time: Gatehouse must be up before this app
starts). It fetches the JWKS with `urllib.request`, so the process must trust
Gatehouse's development CA through `SSL_CERT_FILE` (see README.md).

Settings come from the environment:

- `GATEHOUSE_DOMAIN`: host:port of Gatehouse, as fastapi-auth0's `domain`
  (default `127.0.0.1:8443`);
- `MEASUREMENTS_AUDIENCE`: the API identifier (default
  `https://measurements.example/api`, the seed's API);
- `MEASUREMENTS_ALLOW_ORIGIN`: origins allowed by CORS, comma-separated
  (default `http://localhost:4200`, the Angular app).
"""

import os
import threading
from collections import deque

from fastapi import FastAPI, Security
from fastapi.middleware.cors import CORSMiddleware
from fastapi_auth0 import Auth0, Auth0User
from pydantic import BaseModel, ConfigDict, Field

DOMAIN = os.environ.get("GATEHOUSE_DOMAIN", "127.0.0.1:8443")
AUDIENCE = os.environ.get("MEASUREMENTS_AUDIENCE", "https://measurements.example/api")
ALLOW_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("MEASUREMENTS_ALLOW_ORIGIN", "http://localhost:4200").split(",")
    if origin.strip()
]
# The most measurements kept; older ones are dropped first.
MAX_MEASUREMENTS = 1000

auth = Auth0(
    domain=DOMAIN,
    api_audience=AUDIENCE,
    scopes={
        "read:measurements": "Read the measurements",
        "write:measurements": "Record measurements",
    },
)

app = FastAPI(title="Measurements API")
app.add_middleware(
    CORSMiddleware,
    allow_origins=ALLOW_ORIGINS,
    allow_methods=["GET", "POST"],
    allow_headers=["authorization", "content-type"],
)


class NewMeasurement(BaseModel):
    """The body of `POST /api/measurements`."""

    model_config = ConfigDict(extra="forbid")

    sensor: str = Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    celsius: float = Field(ge=-90, le=60)


class Measurement(BaseModel):
    """One temperature reading, as stored and listed."""

    id: int
    sensor: str
    celsius: float
    recorded_by: str  # the token's `sub`


class Measurements:
    """The readings, in memory, starting with three samples."""

    def __init__(self):
        self._lock = threading.Lock()
        self._next_id = 1
        self._items = deque(maxlen=MAX_MEASUREMENTS)
        for sensor, celsius in (("greenhouse-1", 21.5), ("greenhouse-2", 19.0), ("cellar", 12.25)):
            self.add(NewMeasurement(sensor=sensor, celsius=celsius), "seed")

    def add(self, new, recorded_by):
        with self._lock:
            measurement = Measurement(id=self._next_id, recorded_by=recorded_by, **new.model_dump())
            self._next_id += 1
            self._items.append(measurement)
            return measurement

    def all(self):
        with self._lock:
            return list(self._items)


measurements = Measurements()


@app.get("/api/measurements", response_model=list[Measurement])
def list_measurements(user: Auth0User = Security(auth.get_user, scopes=["read:measurements"])):
    return measurements.all()


@app.post("/api/measurements", response_model=Measurement, status_code=201)
def record_measurement(
    new: NewMeasurement,
    user: Auth0User = Security(auth.get_user, scopes=["write:measurements"]),
):
    return measurements.add(new, user.id)
