from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from beatdesk.demo.seed import DEMO_PASSWORD, USERS, seed


class Command(BaseCommand):
    help = "Create the fictional demo force (Westmere Police) with its teams, people and accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        force = seed()
        self.stdout.write(f"{force.name} is ready. Demo users (password {DEMO_PASSWORD}):")
        for user in USERS:
            self.stdout.write(f"  {user.username:<14} {user.role}")
