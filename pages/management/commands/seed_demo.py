"""Build the demo city: departments, systems, a person in every role, requests in every state,
and the first annual validations open.

Every change goes through the same service functions the pages use, so the demo data obeys the
rules (and has history and audit events). Safe to run twice: the second run changes nothing and
prints the logins again.
"""

from base64 import b32decode
from datetime import timedelta
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from pypdf import PdfWriter

from accounts.models import (
    DESIGNEE_GROUP,
    ITSA_GROUP,
    OPERATIONS_DIRECTOR_GROUP,
    SAFETY_DIRECTOR_GROUP,
    Department,
    SurveillanceSystem,
    User,
)
from external.services import seed_demo_external
from agreements.services import seed_demo_agreements
from accounts.models import Grant
from accounts.services import authorized_requester_add, department_set_head, role_group
from incidents.services import seed_demo_incidents
from retention.services import seed_demo_retention
from waivers.services import seed_demo_waivers
from kpis.services import seed_demo_kpis
from audits.services import open_due_validations
from portal.models import IntendedUse, PermissibleUse, PolicyVersion
from portal.policy import policy_change_add, policy_version_publish, policy_version_save
from access_requests import services as rq
from security.oversight import oversight_decide, oversight_propose
from security.services import second_factor_required

DEMO_PASSWORD = "demo-city-2026"
# The demo's authenticator secret (base32), shared by the demo accounts whose role needs a second
# factor. It is published here on purpose: demo data only, refused in production.
DEMO_AUTHENTICATOR_KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DOMAIN = "city.example"


def _signed_copy() -> bytes:
    """A one-page PDF standing in for a scanned, signed request (well-formed, as the upload check wants)."""
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


DEPARTMENTS = [
    ("police", "Police Department", Department.Kind.DEPARTMENT),
    ("streets", "Streets Department", Department.Kind.DEPARTMENT),
    ("health", "Health Department", Department.Kind.DEPARTMENT),
    ("bps", "Board of Public Service", Department.Kind.BOARD),
    ("parks", "Parks Commission", Department.Kind.COMMISSION),
]

SYSTEMS = [
    ("vms", "Citywide Video Management System", SurveillanceSystem.Kind.VMS, {}),
    ("lpr", "License Plate Reader Network", SurveillanceSystem.Kind.LPR, {"is_license_plate_reader": True}),
    ("traffic", "Traffic Camera Network", SurveillanceSystem.Kind.TRAFFIC, {"has_public_feed": True}),
    ("face", "Facial Recognition Tool", SurveillanceSystem.Kind.BIOMETRIC, {"uses_biometrics": True, "biometric_retention_days": 30}),
    ("partner", "Federated Partner Cameras", SurveillanceSystem.Kind.VMS, {"is_third_party": True}),
]

# email local part, full name, title, department code (None: city-wide role)
PEOPLE = [
    ("itsa", "Irene Castillo", "ITSA administrator", None),
    ("itsa2", "Marcus Bell", "ITSA administrator", None),
    ("designee", "Grace Whitfield", "Chief Technology Officer, Mayor's designee", None),
    ("safety.director", "Renee Carter", "Director of Public Safety", None),
    ("operations.director", "Tomas Alvarez", "City Operations Director", None),
    ("auditor", "Ruth Abernathy", "City Auditor", None),
    ("police.head", "Daniel Okafor", "Commissioner of Police", "police"),
    ("police.requester", "Teresa Lindqvist", "Police IT liaison", "police"),
    ("officer.ramos", "Luis Ramos", "Detective", "police"),
    ("officer.chen", "May Chen", "Crime analyst", "police"),
    ("officer.wright", "Sam Wright", "Sergeant", "police"),
    ("officer.novak", "Eva Novak", "Video systems administrator", "police"),
    ("officer.diaz", "Ana Diaz", "Visiting detective", "police"),
    ("streets.head", "Priya Raman", "Director of Streets", "streets"),
    ("traffic.engineer", "Owen Fields", "Traffic engineer", "streets"),
    ("health.head", "Helen Moore", "Director of Health", "health"),
    ("bps.head", "Victor Salas", "President, Board of Public Service", "bps"),
    ("parks.head", "Nora Quinn", "Parks Commissioner", "parks"),
]


POLICY_1_0 = {
    "number": "1.0",
    "title": "Executive order on the use of surveillance systems",
    "summary": "The first version of the City's policy on surveillance systems: who may use them, for which "
               "intended and permissible uses, how access is granted, reviewed and removed, and how the City "
               "reports on their use and effectiveness.",
}
# (section, description, substantive): a substantive revision adds, alters or eliminates an intended
# use, a permissible use or a condition.
POLICY_1_0_CHANGES = [
    ("Table 1", "Sets the intended uses of surveillance systems, their permissible uses and the conditions "
                "attached to each.", True),
    ("2.2", "Specific individuals or groups are targeted only where Table 1 permits it.", True),
    ("3.11", "Surveillance data is kept 30 days; the Director of Public Safety may allow up to 90 days under "
             "the conditions of this section.", True),
    ("Definitions", "Defines the terms of the policy, among them substantive revision and temporary (less "
                    "than 30 days).", False),
    ("2.6", "The current version of the policy is published on the City's website.", False),
]


def email(local: str) -> str:
    return f"{local}@{DOMAIN}"


class Command(BaseCommand):
    help = "Load the demo city (safe to run twice) and print its logins."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Allow loading demo data in production.")
        parser.add_argument("--code", action="store_true",
                            help="Print the demo authenticator's current sign-in code and exit.")

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False) and not options["force"]:
            raise CommandError("Refusing to load demo people into a production portal (use --force).")
        if options["code"]:
            self.stdout.write(f"{TOTP(b32decode(DEMO_AUTHENTICATOR_KEY)).token():06d}")
            return
        if User.objects.filter(email=email("itsa")).exists():
            self.stdout.write("The demo city is already loaded.")
        else:
            with transaction.atomic():
                self._build()
            # The yearly validations come due at once for a city never validated.
            open_due_validations()
            self.stdout.write(self.style.SUCCESS("Demo city loaded."))
        self._authenticators()
        self._policy()
        self._print_logins()

    def _authenticators(self):
        key = b32decode(DEMO_AUTHENTICATOR_KEY).hex()
        for person in User.objects.filter(email__endswith=f"@{DOMAIN}"):
            if second_factor_required(person):
                TOTPDevice.objects.get_or_create(user=person, confirmed=True,
                                                 defaults={"name": "Demo authenticator", "key": key})

    def _print_logins(self):
        self.stdout.write("\nDemo logins (password for all: %s)" % DEMO_PASSWORD)
        self.stdout.write(
            "ITSA, the designee, the directors, the heads and the auditor also enter a code: add the key "
            f"{DEMO_AUTHENTICATOR_KEY} to an authenticator app, or print the current code with "
            "`python manage.py seed_demo --code`.")
        rows = [
            ("ITSA administrator", email("itsa")),
            ("ITSA administrator (second)", email("itsa2")),
            ("Mayor's designee", email("designee")),
            ("Director of Public Safety", email("safety.director")),
            ("City Operations Director", email("operations.director")),
            ("Department head, Police", email("police.head")),
            ("Authorized requester, Police", email("police.requester")),
            ("Department head, Streets", email("streets.head")),
            ("End user, Police (no portal role)", email("officer.ramos")),
            ("Auditor, read only (oversight)", email("auditor")),
        ]
        width = max(len(role) for role, _ in rows)
        for role, address in rows:
            self.stdout.write(f"  {role.ljust(width)}  {address}")

    def _build(self):
        people = {}
        departments = {}
        for code, name, kind in DEPARTMENTS:
            # Every demo body is a city department under the Mayor (Section 1).
            departments[code] = Department.objects.create(name=name, code=code, kind=kind, in_scope=True)
        for local, name, title, dept in PEOPLE:
            people[local] = User.objects.create_user(
                email=email(local), password=DEMO_PASSWORD, full_name=name, title=title,
                department=departments.get(dept),
            )
        itsa, itsa2, designee = people["itsa"], people["itsa2"], people["designee"]
        itsa.groups.add(role_group(ITSA_GROUP))
        itsa2.groups.add(role_group(ITSA_GROUP))
        designee.groups.add(role_group(DESIGNEE_GROUP))
        people["safety.director"].groups.add(role_group(SAFETY_DIRECTOR_GROUP))
        people["operations.director"].groups.add(role_group(OPERATIONS_DIRECTOR_GROUP))
        itsa.is_staff = itsa.is_superuser = True
        itsa.save(update_fields=["is_staff", "is_superuser"])
        # The City Auditor reads every department's records: ITSA asked, the designee approved.
        oversight_decide(appointment=oversight_propose(
            person=people["auditor"], body="Office of the City Auditor",
            purpose="The yearly audit of who may use the city's surveillance systems.", by=itsa,
        ), approve=True, reason="In the City Auditor's audit plan for the year.", by=designee)

        for code in departments:
            departments[code] = department_set_head(
                department=departments[code], head=people[f"{code}.head"], by=itsa
            )
            authorized_requester_add(department=departments[code], person=people[f"{code}.head"], by=itsa)
        police, streets = departments["police"], departments["streets"]
        authorized_requester_add(department=police, person=people["police.requester"], by=itsa)

        systems = {}
        for code, name, kind, flags in SYSTEMS:
            systems[code] = SurveillanceSystem.objects.create(
                name=name, code=code, kind=kind, owner=departments["police"] if code in ("vms", "lpr") else None,
                description=f"Demo {name.lower()}.", **flags,
            )

        def uses(*codes):
            return list(IntendedUse.objects.filter(code__in=codes))

        def granted(dept, system, intended, need):
            access = rq.department_access_request(
                department=departments[dept], system=systems[system], intended_uses=uses(*intended),
                business_need=need, by=people[f"{dept}.head"],
            )
            return rq.department_access_decide(access=access, grant=True, reason="Tied to service delivery.",
                                               by=designee)

        granted("police", "vms", ["public-safety", "public-buildings"],
                "Detect and investigate crime; protect police facilities.")
        granted("police", "lpr", ["public-safety"], "Locate vehicles tied to active criminal investigations.")
        granted("streets", "traffic", ["traffic-management", "right-of-way"],
                "Optimize signals and find hazards in the right-of-way.")
        denied = rq.department_access_request(
            department=departments["parks"], system=systems["face"], intended_uses=uses("public-lands"),
            business_need="Identify vandals in parks.", by=people["parks.head"],
        )
        rq.department_access_decide(access=denied, grant=False, by=designee,
                                    reason="Biometric identification is not a permissible use for public lands.")
        rq.department_access_request(
            department=departments["health"], system=systems["traffic"], intended_uses=uses("public-health"),
            business_need="Find and assist vulnerable people during extreme heat emergencies.",
            by=people["health.head"],
        )

        crime = PermissibleUse.objects.get(code="crime-detection")
        investigations = PermissibleUse.objects.get(code="criminal-investigations")
        traffic = PermissibleUse.objects.get(code="traffic-monitoring")
        requester, head = people["police.requester"], people["police.head"]

        def file(person, system, *, by=requester, role="end_user", action="add", use_list=(crime,),
                 why="Reviews footage for open cases.", dept=police,
                 statement="Case 26-004417, an active investigation, until the case closes."):
            # Public safety's uses are tied to an active investigation: the request says which (T1c).
            return rq.access_request_submit(
                department=dept, person=people[person], system=systems[system], action=action, role=role,
                permissible_uses=list(use_list), justification=why, by=by, condition_statement=statement,
            )

        # Completed: end users and a system administrator, each provisioned by ITSA.
        for person, system, use_list in (("officer.ramos", "vms", (crime, investigations)),
                                         ("officer.chen", "vms", (crime,)), ("officer.ramos", "lpr", (investigations,))):
            request = file(person, system, use_list=use_list)
            request = rq.access_request_approve(request=request, by=head)
            rq.access_request_provision(request=request, by=itsa, account_name=person.replace(".", "_"))
        admin = file("officer.novak", "vms", role="administrator", by=head, why="Administers the police VMS.")
        rq.access_request_provision(request=admin, by=itsa2, account_name="novak_admin")
        engineer = file("traffic.engineer", "traffic", by=people["streets.head"], use_list=(traffic,),
                        why="Signal timing studies.", dept=streets, statement="")
        rq.access_request_provision(request=engineer, by=itsa, account_name="ofields")

        # Awaiting the head's approval.
        file("officer.wright", "vms", why="Night shift supervisor reviews incidents.")
        # With ITSA, approved by the head, with the signed copy attached.
        with_itsa = file("officer.wright", "lpr", use_list=(investigations,))
        rq.document_attach(request=with_itsa, upload=ContentFile(_signed_copy(), name="signed-request.pdf"),
                           by=requester)
        rq.access_request_approve(request=with_itsa, by=head)
        # Returned by ITSA.
        returned = rq.access_request_approve(request=file("officer.chen", "lpr", use_list=(investigations,)), by=head)
        rq.access_request_return(request=returned, by=itsa,
                                 reason="The signed copy is missing; upload it and file again.")
        # Declined by the head.
        declined = file("officer.novak", "lpr", why="Would like to look at plates.")
        rq.access_request_decline(request=declined, by=head, reason="No investigative need in this role.")
        # Withdrawn.
        rq.access_request_withdraw(request=file("officer.chen", "vms", action="change",
                                                use_list=(crime, investigations), why="Joining investigations."),
                                   by=requester)

        # Temporary access (Definitions: under 30 days): a visiting detective for two weeks.
        temporary = rq.access_request_submit(
            department=police, person=people["officer.diaz"], system=systems["vms"], action="add", role="end_user",
            permissible_uses=[investigations], justification="Joins a two-week joint investigation.", by=requester,
            ends_on=timezone.localdate() + timedelta(days=14),
            condition_statement="Case 26-004502, the joint investigation, until it ends in two weeks.",
        )
        rq.access_request_approve(request=temporary, by=head)
        rq.access_request_provision(request=temporary, by=itsa, account_name="adiaz_temp")
        self._rest_of_the_order(people, departments, systems, crime)

    def _rest_of_the_order(self, people, departments, systems, crime):
        """One example of each workflow of Sections 3.6, 3.7, 3.11 and 5, through their services."""
        police, vms = departments["police"], systems["vms"]
        seed_demo_external(department=police, systems=[vms], permissible_uses=[crime], designee=people["designee"])
        seed_demo_agreements(department=police, system=vms, designee=people["designee"], itsa=people["itsa"])
        seed_demo_retention(asked_by=people["police.head"], decided_by=people["safety.director"], systems=[vms],
                            area="District 3: the Main Street corridor cameras")
        ramos_vms = Grant.objects.get(person=people["officer.ramos"], system=vms, status=Grant.Status.ACTIVE)
        seed_demo_waivers(grant=ramos_vms, asker=people["police.head"], director=people["safety.director"])
        seed_demo_incidents(reporter=people["officer.wright"], person=people["officer.chen"], system=vms,
                            itsa=people["itsa"])
        seed_demo_kpis(department=police, system=systems["lpr"], head=people["police.head"],
                       designee=people["designee"])

    def _policy(self):
        """Version 1.0 of the policy, published by the designee with its change log (2.4), once."""
        if PolicyVersion.objects.filter(number=POLICY_1_0["number"]).exists():
            return
        designee = User.objects.get(email=email("designee"))
        today = timezone.localdate()
        with transaction.atomic():
            version = policy_version_save(version=PolicyVersion(
                **POLICY_1_0, effective_on=today, mayor_approved_on=today - timedelta(days=14),
                aldermen_notified_on=today - timedelta(days=7),
            ), by=designee)
            for section, description, substantive in POLICY_1_0_CHANGES:
                policy_change_add(version=version, section=section, description=description,
                                  substantive=substantive, by=designee)
            policy_version_publish(version=version, by=designee)
