"""Table 1 of the order: intended uses, their permissible uses, the policy and the conditions.

Loaded by a data migration; later revisions of the policy change it through new migrations, so
every version stays in the history of the code. The words are the order's, as written (T1c):
tests/portal/test_table_1_as_written.py compares them with the order's text.
"""

TABLE_1 = [
    {
        "code": "public-safety",
        "name": "Public safety",
        "policy": "The City may continuously use surveillance systems which may include the use of biometrics "
                  "and license plate readers.",
        "conditions": [
            "Specific individuals and groups may only be targeted in conjunction with an active criminal "
            "investigation wherein the individual or group are a person/s of interest or suspect.",
            "Only for the duration of the investigation or the length of time that the person/s or groups are "
            "a person/s of interest or a suspect.",
            "Individuals and groups may not be targeted, and any biometric data must be destroyed once they are "
            "no longer a person/s of interest or a suspect regardless of whether an investigation is concluded "
            "unless required by law.",
        ],
        "uses": [
            ("crime-detection", "Detection of crime"),
            ("crime-deterrence", "Deterrence of crime and informing measures/activities intended to reduce crime"),
            ("criminal-investigations", "Criminal investigations"),
            ("criminal-prosecutions", "Criminal prosecutions"),
        ],
    },
    {
        "code": "traffic-management",
        "name": "Traffic management",
        "policy": "The City may continuously use surveillance systems.",
        "conditions": ["Only as it relates to traffic management and optimization."],
        "uses": [
            ("traffic-monitoring", "Detection and monitoring of traffic including but not limited to vehicle, "
                                   "pedestrian, or other mode of transportation presence, speed, volume"),
            ("collision-detection", "Collision detection"),
            ("signal-optimization-historic", "Traffic signal optimization based on current or historic traffic patterns"),
            ("signal-optimization-current", "Traffic signal optimization based on current traffic conditions"),
        ],
    },
    {
        "code": "right-of-way",
        "name": "Maintenance of right-of-way",
        "policy": "The City may continuously use surveillance systems.",
        "conditions": ["Only as it relates to maintaining the right-of-way in good working order and condition."],
        "uses": [
            ("row-unsafe-conditions", "Detection of unsafe conditions in the right-of-way (for example snow and ice "
                                      "accumulations, standing water)"),
            ("row-damage", "Detection of damage to objects in the right-of-way (for example downed poles)"),
            ("row-hazards", "Detection of potential hazards and obstructions in the right-of-way (for example "
                            "suspicious packages, potholes, cracks in pavement, uneven surfaces, holes in sidewalks)"),
        ],
    },
    {
        "code": "public-lands",
        "name": "Maintenance of public lands",
        "policy": "The City may continuously use surveillance systems.",
        "conditions": ["Only as it relates to maintaining public land and life, safety, asset protection on public land."],
        "uses": [
            ("land-unsafe-conditions", "Detection of unsafe conditions on public land (for example snow and ice "
                                       "accumulations, standing water)"),
            ("land-damage", "Detection of damage to objects on public land (for example graffiti, vandalism, "
                            "illegal dumping)"),
            ("land-unauthorized-activity", "Detection of unauthorized or criminal activity on public land (for "
                                           "example theft, open air drug markets)"),
        ],
    },
    {
        "code": "vacant-properties",
        "name": "Monitoring of vacant properties",
        "policy": "The City may continuously use surveillance systems.",
        "conditions": [
            "Only for the time the property is vacant.",
            "Only for the time the property is determined to be a problem property.",
        ],
        "uses": [
            ("vacant-protect-property", "Protect vacant properties"),
            ("vacant-protect-individuals", "Protect individuals entering unsafe vacant properties"),
            ("vacant-crimes", "Detect, deter, and prosecute crimes committed on vacant or problem properties"),
        ],
    },
    {
        "code": "public-buildings",
        "name": "Security of public buildings",
        "policy": "The City may use surveillance systems to protect the safety, lives, and assets of the City, City "
                  "employees, and visitors within and in the immediate vicinity of public buildings.",
        "conditions": [],
        "uses": [
            ("building-protection", "Safety, life, and asset protection in and immediately adjacent to public buildings"),
        ],
    },
    {
        "code": "public-health",
        "name": "Public health and vulnerable populations",
        "policy": "At the sole direction of the Director of the Health Department or Department of Human Services "
                  "and in response to an emergency or when life threatening conditions exist the Health Department "
                  "and/or Department of Human Services may use surveillance systems to locate and identify "
                  "vulnerable populations for the sole purpose of rendering/providing direct assistance.",
        "conditions": [
            "Only in the event of an impending or existing emergency.",
            "Only for the duration of time that life threatening conditions exist.",
            "Only to detect the presence of vulnerable individuals and NOT to identify or track specific individuals.",
        ],
        "uses": [("vulnerable-populations", "Find and assist vulnerable populations")],
    },
    {
        "code": "registered-individuals",
        "name": "Registered individuals",
        "policy": "The City may use surveillance systems to detect the presence of individuals who by law are "
                  "forbidden to be in a specific area/s. Including the collection and use of biometrics to aid in "
                  "detection.",
        "conditions": [
            "Only for the duration of time that an individual is forbidden to be in the area/s.",
            "Biometrics may only be used for the duration of time the individual is forbidden to be in the area/s "
            "after which all biometric data must be destroyed.",
            "Only in the restricted area/s.",
        ],
        "uses": [("forbidden-presence", "Detect individuals who by law are not allowed to be in a certain area/s")],
    },
]


def load_table_1(IntendedUse, PermissibleUse) -> None:
    """Write Table 1 into the registry; safe to repeat. Takes the models so migrations can pass theirs."""
    for position, row in enumerate(TABLE_1, start=1):
        intended, _ = IntendedUse.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "policy": row["policy"],
                "conditions": "\n".join(row["conditions"]),
                "position": position,
            },
        )
        for use_position, (code, name) in enumerate(row["uses"], start=1):
            PermissibleUse.objects.update_or_create(
                code=code, defaults={"intended_use": intended, "name": name, "position": use_position}
            )


# The intended uses whose conditions a request must answer (T1c): what the request states to show the
# condition is met. Only conditions tied to a fact outside the portal (an investigation, the Director's
# direction, a property's state, a court's order) need a statement; the other rows only bound the use.
CONDITION_STATEMENTS = {
    "public-safety": "Targeting only with an active criminal investigation: give the case number and until "
                     "when the person or group is of interest or a suspect.",
    "vacant-properties": "Only while the property is vacant or a problem property: give the property and until "
                         "when it is vacant or determined a problem property.",
    "public-health": "Only at the direction of the Director of the Health Department or Department of Human "
                     "Services in an emergency: give who directed it, the emergency, and until when life "
                     "threatening conditions exist.",
    "registered-individuals": "Only while an individual is forbidden to be in the area: give the order or case, "
                              "the restricted area and when the order ends.",
}
