"""
iSCSI sessions: one target logged in on several portals (each through its own NIC, with CHAP
from pillar), or logged out.

.. code-block:: yaml

    hostnode-storage-net-iscsi-san:
      iscsi.logged_in:
        - name: iqn.2001-05.com.equallogic:0-af1ff6-san
        - portals:
            - {portal: 192.0.2.10, iface: ieth1, netdev: eth1}
            - {portal: 192.0.2.10, iface: ieth2, netdev: eth2}
        - chap_pillar: hostnode:storage_net:chap:san

Discovery never writes node records here, so a run where nothing changed reports nothing. A
portal that does not answer fails that portal only, after ``login_timeout`` seconds per try,
and the state says which; the other portals are logged in. test=True predicts exactly what a
real run changes.

A logged-in session whose NIC, settings or CHAP credentials change is logged out and in again,
one portal at a time, so multipath keeps a path. ``watch`` re-logs in the same way when a
watched state changed (a new initiator name, an iscsid.conf of your own):

.. code-block:: yaml

    hostnode-storage-net-iscsi-san:
      iscsi.logged_in:
        - name: iqn.2001-05.com.equallogic:0-af1ff6-san
        - portals: [192.0.2.10, 198.51.100.10]
        - watch:
          - file: /etc/iscsi/iscsid.conf
"""

import saltext.hostnode

saltext.hostnode.refresh()  # a sync or an upgrade of the shared code takes effect now

from saltext.hostnode.utils import state as hostnode_state

__virtualname__ = "iscsi"


def __virtual__():
    if "iscsi.login" not in __salt__:
        return (False, __salt__.value().missing_fun_string("iscsi.login"))
    return __virtualname__


def logged_in(name, portals, chap_pillar=None, startup="automatic", login_timeout=10,
              login_retries=1, settings=None):  # fmt: skip
    """
    Target name logged in on every one of portals, and at boot (``startup: automatic``).

    portals
        Addresses, or ``{portal, iface, netdev}`` to leave by one NIC (iface bound to netdev).
    chap_pillar
        Pillar key holding ``{username, password}`` (plus ``username_in``/``password_in`` for
        mutual CHAP); the state never sees or prints the secrets.
    settings
        Further node record settings (``node.session.timeo.replacement_timeout: 15``, ...).

    .. code-block:: yaml

        iqn.2026-11.net.example:san:
          iscsi.logged_in:
            - portals: [192.0.2.1, 198.51.100.1]
            - chap_pillar: storage:chap
            - settings:
                node.session.timeo.replacement_timeout: 15
    """

    def converge(test):
        return __salt__["iscsi.login"](
            name, portals, chap_pillar, startup, login_timeout, login_retries, settings, test=test
        )

    ret = hostnode_state.run(name, converge, bool(__opts__["test"]), f"iSCSI sessions of {name}")
    # Salt runs mod_watch after a watched state changed and this one did not; its return would
    # replace a failed one here, so a failure asks Salt to skip it.
    if ret["result"] is False:
        ret["skip_watch"] = True
    return ret


def logged_out(name, portals=None, delete_records=True):
    """
    Target name logged out on portals (every portal when not given); with delete_records, its
    node records deleted too, so the node does not log in again at boot.

    .. code-block:: yaml

        iqn.2026-11.net.example:old-san:
          iscsi.logged_out
    """

    def converge(test):
        return __salt__["iscsi.logout"](name, portals, delete_records, test=test)

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"iSCSI sessions of {name}")


def mod_watch(name, sfun, portals=None, login_timeout=10, login_retries=1, **kwargs):
    """
    Salt calls this when a state that ``iscsi.logged_in`` watches changed and ``logged_in``
    itself changed nothing: every session of target name on portals is logged out and in again,
    one portal at a time, as ``iscsi.relogin`` does. kwargs takes the rest of the watching
    state's arguments and Salt's own (``__reqs__``), which a re-login does not need. Watching
    from ``iscsi.logged_out`` does nothing.

    .. code-block:: yaml

        iqn.2026-11.net.example:san:
          iscsi.logged_in:
            - portals:
              - 192.0.2.1:3260
              - 198.51.100.1:3260
            - watch:
              - file: /etc/iscsi/iscsid.conf
    """
    if sfun != "logged_in":
        return {"name": name, "result": True, "changes": {},
                "comment": f"iscsi.{sfun} has nothing to do on a watch"}  # fmt: skip
    only = [item.get("portal") if isinstance(item, dict) else item for item in portals or []]

    def converge(test):
        return __salt__["iscsi.relogin"](
            name, only or None, login_timeout, login_retries, test=test
        )

    return hostnode_state.run(name, converge, bool(__opts__["test"]), f"iSCSI sessions of {name}")
