"""xarray on zarrlib's codec pipeline: a realistic dataset written and read back, checked against
xarray on zarr-python's own pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import zarr

import zarrlib
import zarrlib.pipeline  # noqa: F401  (registers the pipeline when the package runs from source)

xr = pytest.importorskip("xarray")

OURS = "zarrlib.ZarrlibCodecPipeline"


def _dataset() -> xr.Dataset:
    rng = np.random.default_rng(7)
    time = pd.date_range("2020-01-01", periods=30, freq="6h")
    lat = np.linspace(-60, 60, 25)
    lon = np.linspace(0, 350, 36)
    temperature = (280 + 10 * rng.standard_normal((30, 25, 36))).astype("float32")
    temperature[3, 4, 5] = np.nan
    return xr.Dataset(
        {
            "temperature": (("time", "lat", "lon"), temperature, {"units": "K", "long_name": "air temperature"}),
            "precipitation": (("time", "lat", "lon"), rng.gamma(1.0, 2.0, (30, 25, 36)), {"units": "mm"}),
            "station_count": (("lat", "lon"), rng.integers(0, 50, (25, 36)).astype("int16"), {"units": "1"}),
            "flag": (("time",), rng.integers(0, 2, 30).astype("uint8")),
            "station_name": (("lat",), np.array([f"station-{i}" for i in range(25)], dtype=object)),
        },
        coords={
            "time": time,
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
        attrs={"title": "zarrlib test dataset", "institution": "nowhere"},
    )


ENCODING = {
    "temperature": {"chunks": (10, 10, 12)},
    "precipitation": {"chunks": (15, 25, 36), "dtype": "float32", "scale_factor": 0.01, "_FillValue": -9999},
    "station_count": {"chunks": (5, 9)},
}


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_xarray_round_trips_a_dataset_on_the_pipeline(zarr_format, tmp_path):
    ds = _dataset()
    with zarr.config.set({"codec_pipeline.path": OURS}):
        before = zarrlib.pipeline_stats()
        ds.to_zarr(tmp_path / "ours.zarr", encoding=ENCODING, zarr_format=zarr_format, consolidated=True)
        ours = xr.open_zarr(tmp_path / "ours.zarr").load()
        after = zarrlib.pipeline_stats()
    assert after["engine_writes"] > before["engine_writes"] and after["engine_reads"] > before["engine_reads"]
    assert after["fallback_arrays"] == before["fallback_arrays"]
    ds.to_zarr(tmp_path / "ref.zarr", encoding=ENCODING, zarr_format=zarr_format, consolidated=True)
    reference = xr.open_zarr(tmp_path / "ref.zarr").load()
    xr.testing.assert_identical(ours, reference)
    xr.testing.assert_allclose(ours, ds, atol=0.006)  # precipitation is packed to 0.01
    assert ours["temperature"].attrs == {"units": "K", "long_name": "air temperature"}
    assert ours["time"].dtype == np.dtype("datetime64[ns]")
    # What each pipeline wrote reads the same through the other.
    with zarr.config.set({"codec_pipeline.path": OURS}):
        xr.testing.assert_identical(xr.open_zarr(tmp_path / "ref.zarr").load(), reference)
    xr.testing.assert_identical(xr.open_zarr(tmp_path / "ours.zarr").load(), reference)


def test_xarray_appends_and_region_writes_on_the_pipeline(tmp_path):
    ds = _dataset()
    path = tmp_path / "grow.zarr"
    with zarr.config.set({"codec_pipeline.path": OURS}):
        ds.isel(time=slice(0, 20)).to_zarr(path, encoding={"temperature": {"chunks": (10, 10, 12)}})
        ds.isel(time=slice(20, 30)).to_zarr(path, append_dim="time")
        ds[["temperature"]].isel(time=slice(0, 10)).pipe(lambda d: d + 1).drop_vars(["lat", "lon"]).to_zarr(
            path, region={"time": slice(0, 10)}
        )
        back = xr.open_zarr(path).load()
    expected = ds.copy(deep=True)
    expected["temperature"][:10] += 1
    xr.testing.assert_allclose(back, expected)
