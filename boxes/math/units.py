"""Unit conversion with exact factors (length, mass, time, volume, area, speed, energy, pressure, data, temperature)."""

from __future__ import annotations

from fractions import Fraction as F

from fastmcp import FastMCP

mcp = FastMCP("math.units")

# (dimension, factor to the SI unit, aliases). Factors are exact definitions.
_UNITS: list[tuple[str, F, tuple[str, ...]]] = [
    ("length", F(1), ("m", "meter", "metre")),
    ("length", F(1000), ("km", "kilometer", "kilometre")),
    ("length", F(1, 100), ("cm", "centimeter", "centimetre")),
    ("length", F(1, 1000), ("mm", "millimeter", "millimetre")),
    ("length", F(1, 10**6), ("um", "µm", "micrometer", "micron")),
    ("length", F(1, 10**9), ("nm", "nanometer")),
    ("length", F(254, 10000), ("in", "inch", "inches", '"')),
    ("length", F(3048, 10000), ("ft", "foot", "feet", "'")),
    ("length", F(9144, 10000), ("yd", "yard")),
    ("length", F(1609344, 1000), ("mi", "mile")),
    ("length", F(1852), ("nmi", "nautical mile")),
    ("mass", F(1), ("kg", "kilogram", "kilo")),
    ("mass", F(1, 1000), ("g", "gram", "gramme")),
    ("mass", F(1, 10**6), ("mg", "milligram")),
    ("mass", F(1000), ("t", "tonne", "metric ton")),
    ("mass", F(45359237, 10**8), ("lb", "lbs", "pound")),
    ("mass", F(45359237, 16 * 10**8), ("oz", "ounce")),
    ("mass", F(14 * 45359237, 10**8), ("st", "stone")),
    ("time", F(1), ("s", "sec", "second")),
    ("time", F(1, 1000), ("ms", "millisecond")),
    ("time", F(60), ("min", "minute")),
    ("time", F(3600), ("h", "hr", "hour")),
    ("time", F(86400), ("d", "day")),
    ("time", F(7 * 86400), ("wk", "week")),
    ("time", F(36525 * 864), ("yr", "year")),  # Julian year, 365.25 days
    ("volume", F(1, 1000), ("l", "liter", "litre")),
    ("volume", F(1, 10**6), ("ml", "milliliter", "millilitre", "cm3", "cc")),
    ("volume", F(1), ("m3", "cubic meter", "cubic metre")),
    ("volume", F(3785411784, 10**12), ("gal", "gallon", "us gallon")),
    ("volume", F(946352946, 10**12), ("qt", "quart")),
    ("volume", F(473176473, 10**12), ("pt", "pint")),
    ("volume", F(2365882365, 10**13), ("cup",)),
    ("volume", F(295735295625, 10**16), ("floz", "fl oz", "fluid ounce")),
    ("volume", F(1478676478125, 10**17), ("tbsp", "tablespoon")),
    ("volume", F(492892159375, 10**17), ("tsp", "teaspoon")),
    ("area", F(1), ("m2", "square meter", "square metre")),
    ("area", F(10**6), ("km2", "square kilometer", "square kilometre")),
    ("area", F(1, 10**4), ("cm2", "square centimeter")),
    ("area", F(10**4), ("ha", "hectare")),
    ("area", F(40468564224, 10**7), ("acre",)),
    ("area", F(3048**2, 10**8), ("ft2", "sq ft", "square foot", "square feet")),
    ("area", F(1609344**2, 10**6), ("mi2", "sq mi", "square mile")),
    ("speed", F(1), ("m/s", "mps", "meters per second")),
    ("speed", F(1000, 3600), ("km/h", "kph", "kmh", "kilometers per hour")),
    ("speed", F(1609344, 3600 * 1000), ("mph", "miles per hour")),
    ("speed", F(1852, 3600), ("kn", "knot")),
    ("energy", F(1), ("j", "joule")),
    ("energy", F(1000), ("kj", "kilojoule")),
    ("energy", F(4184, 1000), ("cal", "calorie")),
    ("energy", F(4184), ("kcal", "kilocalorie")),
    ("energy", F(3600), ("wh", "watt hour")),
    ("energy", F(3600000), ("kwh", "kilowatt hour")),
    ("pressure", F(1), ("pa", "pascal")),
    ("pressure", F(1000), ("kpa", "kilopascal")),
    ("pressure", F(10**5), ("bar",)),
    ("pressure", F(101325), ("atm", "atmosphere")),
    ("pressure", F(6894757293168, 10**9), ("psi",)),
    ("data", F(1), ("b", "byte")),
    ("data", F(1, 8), ("bit",)),
    ("data", F(10**3), ("kb", "kilobyte")),
    ("data", F(10**6), ("mb", "megabyte")),
    ("data", F(10**9), ("gb", "gigabyte")),
    ("data", F(10**12), ("tb", "terabyte")),
    ("data", F(2**10), ("kib", "kibibyte")),
    ("data", F(2**20), ("mib", "mebibyte")),
    ("data", F(2**30), ("gib", "gibibyte")),
    ("data", F(2**40), ("tib", "tebibyte")),
]
_TEMPERATURES = {"c": "C", "°c": "C", "celsius": "C", "f": "F", "°f": "F", "fahrenheit": "F", "k": "K", "kelvin": "K"}


def _lookup(unit: str) -> tuple[str, F] | str:
    key = " ".join(unit.strip().lower().split())
    if key in _TEMPERATURES:
        return _TEMPERATURES[key]
    candidates = [key] + ([key[:-2], key[:-1]] if key.endswith("es") else [key[:-1]] if key.endswith("s") else [])
    for candidate in candidates:  # exact spelling first: "ms" is milliseconds, not meters
        for dimension, factor, aliases in _UNITS:
            if candidate in aliases:
                return dimension, factor
    known = sorted({aliases[0] for _, _, aliases in _UNITS} | {"C", "F", "K"})
    raise ValueError(f"unknown unit {unit!r}; known: {', '.join(known)}")


def _to_kelvin(value: F, scale: str) -> F:
    return {"C": value + F(27315, 100), "F": (value - 32) * F(5, 9) + F(27315, 100), "K": value}[scale]


def _from_kelvin(value: F, scale: str) -> F:
    return {"C": value - F(27315, 100), "F": (value - F(27315, 100)) * F(9, 5) + 32, "K": value}[scale]


@mcp.tool
def convert_units(value: float, from_unit: str, to_unit: str) -> float:
    """Convert a quantity between units of the same kind, exactly, rounded to 12 significant digits.

    convert_units(5, "km", "mi") gives 3.10685596119; convert_units(100, "F", "C") gives 37.7777777778.
    Units: length (m km cm mm in ft yd mi nmi), mass (kg g mg t lb oz st), time (s ms min h day
    week year), volume (l ml m3 gal qt pt cup floz tbsp tsp), area (m2 km2 cm2 ha acre ft2 mi2),
    speed (m/s km/h mph knot), energy (J kJ cal kcal Wh kWh), pressure (Pa kPa bar atm psi),
    data (bit B kB MB GB TB KiB MiB GiB TiB), temperature (C F K). Full names and plurals work too.

    Args:
        value: The quantity in from_unit.
        from_unit: Unit of value, e.g. "km", "miles", "°F".
        to_unit: Unit wanted, of the same kind.
    """
    source, target = _lookup(from_unit), _lookup(to_unit)
    exact = F(str(value))
    if isinstance(source, str) or isinstance(target, str):
        if not (isinstance(source, str) and isinstance(target, str)):
            raise ValueError(f"cannot convert {from_unit!r} to {to_unit!r}: only temperatures convert to temperatures")
        result = _from_kelvin(_to_kelvin(exact, source), target)
    else:
        if source[0] != target[0]:
            raise ValueError(f"cannot convert {source[0]} ({from_unit!r}) to {target[0]} ({to_unit!r})")
        result = exact * source[1] / target[1]
    return float(f"{float(result):.12g}")
