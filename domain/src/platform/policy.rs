//! The one place that decides whether an identity may perform an action on a resource. Server
//! functions, jobs and the CLI ask [`require`]; nothing else compares roles.
//!
//! Permissions come from the person's role: built in, or defined by the workplace from the same
//! permission sets. A role may limit its `results` permission, and the people it may see, to the
//! department subtrees granted to the person (built-in Manager does).

use std::{collections::BTreeSet, fmt, str::FromStr};

use crate::{
    platform::ids::{DepartmentId, RoleId, UserId, WorkplaceId},
    Error, Result,
};

/// What a role may do, as permission sets a data-protection officer can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Workplace settings (security options, minimum group size, …).
    Settings,
    /// Plan and invoices.
    Billing,
    /// Departments, people and invitations.
    People,
    /// Creating and running surveys.
    Surveys,
    /// Survey results, everywhere or on granted departments.
    Results,
    /// The access log and security events.
    Audit,
    /// Roles and who holds them.
    Roles,
}

impl Permission {
    pub const ALL: [Permission; 7] = [
        Permission::Settings,
        Permission::Billing,
        Permission::People,
        Permission::Surveys,
        Permission::Results,
        Permission::Audit,
        Permission::Roles,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Permission::Settings => "settings",
            Permission::Billing => "billing",
            Permission::People => "people",
            Permission::Surveys => "surveys",
            Permission::Results => "results",
            Permission::Audit => "audit",
            Permission::Roles => "roles",
        }
    }

    pub fn from_key(key: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Permission::Settings => "Settings",
            Permission::Billing => "Billing",
            Permission::People => "People",
            Permission::Surveys => "Surveys",
            Permission::Results => "Results",
            Permission::Audit => "Audit",
            Permission::Roles => "Roles",
        }
    }

    /// The sets a workplace may build its own roles from. `roles` stays with the Owner, so no
    /// role defined by a workplace can hand out roles.
    pub const FOR_WORKPLACE_ROLES: [Permission; 6] = [
        Permission::Settings,
        Permission::Billing,
        Permission::People,
        Permission::Surveys,
        Permission::Results,
        Permission::Audit,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of permissions, small enough to copy.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u8);

impl PermissionSet {
    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn insert(&mut self, permission: Permission) {
        self.0 |= permission.bit();
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_subset(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// The stored form: keys separated by commas.
    pub fn keys(self) -> String {
        self.iter().map(Permission::key).collect::<Vec<_>>().join(",")
    }

    pub fn from_keys(text: &str) -> Option<PermissionSet> {
        text.split(',')
            .filter(|key| !key.is_empty())
            .map(Permission::from_key)
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::default();
        for permission in iter {
            set.insert(permission);
        }
        set
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// The roles every workplace has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Employee,
    Manager,
    HrAdmin,
    Auditor,
    Owner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Employee,
        Role::Manager,
        Role::HrAdmin,
        Role::Auditor,
        Role::Owner,
    ];

    /// The stored form.
    pub fn key(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Manager => "manager",
            Role::HrAdmin => "hr_admin",
            Role::Auditor => "auditor",
            Role::Owner => "owner",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.key() == key)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Employee => "Employee",
            Role::Manager => "Manager",
            Role::HrAdmin => "HR admin",
            Role::Auditor => "Auditor",
            Role::Owner => "Owner",
        }
    }

    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        let list: &[Permission] = match self {
            Role::Employee => &[],
            Role::Manager => &[Results],
            Role::HrAdmin => &[Settings, People, Surveys, Results],
            Role::Auditor => &[Audit],
            Role::Owner => &[Settings, Billing, People, Surveys, Results, Audit, Roles],
        };
        list.iter().copied().collect()
    }

    /// Whether `results` covers only the departments granted to the person.
    fn results_limited_to_grants(self) -> bool {
        self == Role::Manager
    }
}

/// Which role: one of the built-in ones, or one the workplace defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoleKey {
    BuiltIn(Role),
    Workplace(RoleId),
}

/// The form used in forms and CSV files: a built-in key, or `custom:` and the role's id.
impl fmt::Display for RoleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleKey::BuiltIn(role) => f.write_str(role.key()),
            RoleKey::Workplace(id) => write!(f, "custom:{id}"),
        }
    }
}

impl FromStr for RoleKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text.strip_prefix("custom:") {
            Some(id) => Ok(RoleKey::Workplace(id.parse()?)),
            None => Role::from_key(text).map(RoleKey::BuiltIn).ok_or(Error::NotFound),
        }
    }
}

/// A role as the policy needs it: its name, permissions and how far `results` reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDefinition {
    pub key: RoleKey,
    pub name: String,
    pub permissions: PermissionSet,
    /// `results` (and seeing people) only on the departments granted to the person.
    pub results_limited_to_grants: bool,
}

impl RoleDefinition {
    pub fn built_in(role: Role) -> Self {
        Self {
            key: RoleKey::BuiltIn(role),
            name: role.label().to_owned(),
            permissions: role.permissions(),
            results_limited_to_grants: role.results_limited_to_grants(),
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.key == RoleKey::BuiltIn(role)
    }

    /// What giving this role hands out, for [`Action::AssignRole`].
    pub fn reach(&self) -> RoleReach {
        RoleReach {
            permissions: self.permissions,
            results_limited_to_grants: self.results_limited_to_grants,
        }
    }
}

/// What a role lets its holder do; the policy decides who may give it from this alone, never
/// from the role's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleReach {
    pub permissions: PermissionSet,
    pub results_limited_to_grants: bool,
}

impl RoleReach {
    /// No more than a manager: at most `results`, and only on granted departments.
    fn at_most_a_manager(self) -> bool {
        let results_only: PermissionSet = [Permission::Results].into_iter().collect();
        self.permissions.is_subset(results_only)
            && (!self.permissions.contains(Permission::Results) || self.results_limited_to_grants)
    }
}

/// Who is asking: a person signed in with both factors, as loaded for this request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub workplace_id: WorkplaceId,
    pub role: RoleDefinition,
    /// The granted departments and every department below them.
    pub granted_departments: BTreeSet<DepartmentId>,
}

impl Identity {
    pub fn has(&self, permission: Permission) -> bool {
        self.role.permissions.contains(permission)
    }

    fn sees_department(&self, department: Option<DepartmentId>) -> bool {
        department.is_some_and(|d| self.granted_departments.contains(&d))
    }
}

/// Something a person wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See the department tree (names only).
    ViewDepartments,
    ManageDepartments,
    /// See a person's name, department and status.
    ViewPerson,
    ManagePeople,
    /// Give a person a role that reaches this far (or take such a role away).
    AssignRole(RoleReach),
    /// See the workplace's roles and what each allows.
    ViewRoles,
    ManageRoles,
    ManageSettings,
    /// Delete the whole workplace and destroy its keys.
    DeleteWorkplace,
    /// Let Candor's operators look at the workplace's setup for a limited time.
    GrantSupportAccess,
    /// Create, pause and close surveys.
    ManageSurveys,
    ViewResults,
    /// Open results at all (which groups then depends on [`Action::ViewResults`]).
    ListResults,
    ViewAudit,
    /// Carry out a person's data-protection request: export, restrict, erase.
    HandleDataRequests,
    /// See when the instance's backups and restore drills last ran.
    ViewOperations,
}

/// What the action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// The workplace as a whole.
    Workplace,
    Department(DepartmentId),
    /// A person, by the department they are in (if any).
    Person {
        id: UserId,
        department: Option<DepartmentId>,
    },
}

/// Whether `identity` may do `action` on `resource`.
pub fn allows(identity: &Identity, action: Action, resource: Resource) -> bool {
    use Permission::*;
    match (action, resource) {
        (Action::ViewDepartments, _) => true,
        (Action::ManageDepartments, _) => identity.has(People),
        (Action::ViewPerson, Resource::Person { id, department }) => {
            id == identity.user_id
                || identity.has(People)
                || (identity.has(Results) && identity.sees_department(department))
        }
        (Action::ViewPerson, _) => identity.has(People),
        (Action::ManagePeople, _) => identity.has(People),
        (Action::HandleDataRequests, _) => identity.has(People),
        // HR admins place employees and managers (and roles no stronger); anything more is the
        // Owner's to give.
        (Action::AssignRole(reach), _) if reach.at_most_a_manager() => {
            identity.has(People) || identity.has(Roles)
        }
        (Action::AssignRole(_), _) => identity.has(Roles),
        (Action::ViewRoles, _) => identity.has(People) || identity.has(Roles),
        (Action::ManageRoles, _) => identity.has(Roles),
        (Action::ManageSettings, _) => identity.has(Settings),
        // Irreversible for everyone in the workplace: the built-in Owner only, never a role a
        // workplace defined (whatever its permissions).
        (Action::DeleteWorkplace, _) => identity.role.is(Role::Owner),
        // Who may look inside from outside is the Owner's decision alone.
        (Action::GrantSupportAccess, _) => identity.role.is(Role::Owner),
        // When backups and restore drills ran: the workplace's Owner, who answers for its data.
        (Action::ViewOperations, _) => identity.role.is(Role::Owner),
        (Action::ManageSurveys, _) => identity.has(Surveys),
        (Action::ViewResults, resource) => {
            if !identity.has(Results) {
                return false;
            }
            if !identity.role.results_limited_to_grants {
                return true;
            }
            match resource {
                Resource::Department(department) => identity.sees_department(Some(department)),
                Resource::Person { department, .. } => identity.sees_department(department),
                Resource::Workplace => false,
            }
        }
        (Action::ListResults, _) => identity.has(Results),
        (Action::ViewAudit, _) => identity.has(Audit),
    }
}

/// Whether a role gives any right beyond answering check-ins (a sign-in by such a person from
/// a new network is worth an alert).
pub fn has_admin_rights(role: &RoleDefinition) -> bool {
    !role.permissions.is_empty()
}

/// Whether a role answers for the workplace towards Candor: the built-in Owner, who is told of
/// personal-data breaches and whom HR cannot erase.
pub fn answers_for_workplace(role: &RoleDefinition) -> bool {
    role.is(Role::Owner)
}

/// Whether a role reads the access log and so receives its alerts and review reminders.
pub fn watches_audit_log(role: &RoleDefinition) -> bool {
    role.permissions.contains(Permission::Audit)
}

/// Whose records a person may list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    /// People whose department is one of these (possibly none).
    Departments(BTreeSet<DepartmentId>),
}

/// The people an identity may list: everyone with `people`; with `results`, the people in their
/// granted subtrees (a manager's team); anyone else, nobody (they still see their own record).
/// Workplace-wide results do not widen this: they are aggregates, never a directory.
pub fn people_scope(identity: &Identity) -> Scope {
    if identity.has(Permission::People) {
        Scope::Everyone
    } else if identity.has(Permission::Results) {
        Scope::Departments(identity.granted_departments.clone())
    } else {
        Scope::Departments(BTreeSet::new())
    }
}

/// [`allows`], as an error to return: not found when the resource is outside what the person
/// may even know about, forbidden otherwise.
pub fn require(identity: &Identity, action: Action, resource: Resource) -> Result<()> {
    if allows(identity, action, resource) {
        return Ok(());
    }
    match resource {
        Resource::Person { .. } => Err(Error::NotFound),
        _ => Err(Error::Forbidden),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(role: Role, granted: &[DepartmentId]) -> Identity {
        Identity {
            user_id: UserId::new(),
            workplace_id: WorkplaceId::new(),
            role: RoleDefinition::built_in(role),
            granted_departments: granted.iter().copied().collect(),
        }
    }

    fn custom(permissions: &[Permission], limited: bool) -> RoleDefinition {
        RoleDefinition {
            key: RoleKey::Workplace(RoleId::new()),
            name: "Custom".into(),
            permissions: permissions.iter().copied().collect(),
            results_limited_to_grants: limited,
        }
    }

    fn reach(role: Role) -> RoleReach {
        RoleDefinition::built_in(role).reach()
    }

    #[test]
    fn every_role_against_every_action_inside_and_outside_grants() {
        let inside = DepartmentId::new();
        let outside = DepartmentId::new();
        let someone_inside = Resource::Person {
            id: UserId::new(),
            department: Some(inside),
        };
        let someone_outside = Resource::Person {
            id: UserId::new(),
            department: Some(outside),
        };
        use Action::*;
        use Role::*;
        // (role, action, resource, allowed)
        let table = [
            (Employee, ViewDepartments, Resource::Workplace, true),
            (Employee, ManageDepartments, Resource::Workplace, false),
            (Employee, ViewPerson, someone_inside, false),
            (Employee, ViewResults, Resource::Department(inside), false),
            (Employee, ManageSettings, Resource::Workplace, false),
            (Manager, ViewResults, Resource::Department(inside), true),
            (Manager, ViewResults, Resource::Department(outside), false),
            (Manager, ViewResults, Resource::Workplace, false),
            (Manager, ViewPerson, someone_inside, true),
            (Manager, ViewPerson, someone_outside, false),
            (Manager, ManagePeople, Resource::Workplace, false),
            (Manager, ManageDepartments, Resource::Workplace, false),
            (HrAdmin, ManageDepartments, Resource::Workplace, true),
            (HrAdmin, ManagePeople, Resource::Workplace, true),
            (HrAdmin, ViewPerson, someone_outside, true),
            (HrAdmin, ViewResults, Resource::Department(outside), true),
            (HrAdmin, ViewResults, Resource::Workplace, true),
            (HrAdmin, ManageSettings, Resource::Workplace, true),
            (HrAdmin, ManageRoles, Resource::Workplace, false),
            (HrAdmin, ViewAudit, Resource::Workplace, false),
            (Auditor, ViewAudit, Resource::Workplace, true),
            (Auditor, ViewResults, Resource::Department(inside), false),
            (Auditor, ViewPerson, someone_inside, false),
            (Auditor, ManagePeople, Resource::Workplace, false),
            (Owner, ManageRoles, Resource::Workplace, true),
            (HrAdmin, AssignRole(reach(Manager)), Resource::Workplace, true),
            (HrAdmin, AssignRole(reach(Employee)), Resource::Workplace, true),
            (HrAdmin, AssignRole(reach(HrAdmin)), Resource::Workplace, false),
            (HrAdmin, AssignRole(reach(Owner)), Resource::Workplace, false),
            (Manager, AssignRole(reach(Employee)), Resource::Workplace, false),
            (Owner, AssignRole(reach(Owner)), Resource::Workplace, true),
            (Owner, AssignRole(reach(Auditor)), Resource::Workplace, true),
            (Owner, ViewAudit, Resource::Workplace, true),
            (Owner, DeleteWorkplace, Resource::Workplace, true),
            (Owner, GrantSupportAccess, Resource::Workplace, true),
            (HrAdmin, GrantSupportAccess, Resource::Workplace, false),
            (Auditor, GrantSupportAccess, Resource::Workplace, false),
            (HrAdmin, ManageSurveys, Resource::Workplace, true),
            (Manager, ListResults, Resource::Workplace, true),
            (Employee, ListResults, Resource::Workplace, false),
            (Auditor, ListResults, Resource::Workplace, false),
            (Manager, ManageSurveys, Resource::Workplace, false),
            (Employee, ManageSurveys, Resource::Workplace, false),
            (HrAdmin, DeleteWorkplace, Resource::Workplace, false),
            (Auditor, DeleteWorkplace, Resource::Workplace, false),
            (Manager, DeleteWorkplace, Resource::Workplace, false),
            (Owner, ManagePeople, Resource::Workplace, true),
            (Owner, ViewResults, Resource::Department(outside), true),
        ];
        for (role, action, resource, allowed) in table {
            let who = identity(role, &[inside]);
            assert_eq!(
                allows(&who, action, resource),
                allowed,
                "{role:?} {action:?} {resource:?}"
            );
        }
    }

    #[test]
    fn workplace_roles_get_exactly_their_permissions() {
        let inside = DepartmentId::new();
        let outside = DepartmentId::new();
        let team_lead = Identity {
            role: custom(&[Permission::Results], true),
            ..identity(Role::Employee, &[inside])
        };
        assert!(allows(
            &team_lead,
            Action::ViewResults,
            Resource::Department(inside)
        ));
        assert!(!allows(
            &team_lead,
            Action::ViewResults,
            Resource::Department(outside)
        ));
        assert!(!allows(&team_lead, Action::ViewResults, Resource::Workplace));

        let analyst = Identity {
            role: custom(&[Permission::Results, Permission::Surveys], false),
            ..identity(Role::Employee, &[])
        };
        assert!(allows(
            &analyst,
            Action::ViewResults,
            Resource::Department(outside)
        ));
        assert!(allows(&analyst, Action::ViewResults, Resource::Workplace));
        assert!(!allows(&analyst, Action::ManagePeople, Resource::Workplace));
        // Workplace-wide results are aggregates, not a directory of people.
        assert_eq!(people_scope(&analyst), Scope::Departments(BTreeSet::new()));

        let payroll = Identity {
            role: custom(&[Permission::Billing, Permission::People], false),
            ..identity(Role::Employee, &[])
        };
        assert!(allows(&payroll, Action::ManagePeople, Resource::Workplace));
        assert!(allows(&payroll, Action::ViewRoles, Resource::Workplace));
        assert!(!allows(&payroll, Action::ManageRoles, Resource::Workplace));
        assert!(!allows(&payroll, Action::ManageSettings, Resource::Workplace));
        assert!(!allows(&payroll, Action::ViewAudit, Resource::Workplace));
    }

    #[test]
    fn giving_a_role_is_judged_by_what_it_allows_not_its_name() {
        let hr = identity(Role::HrAdmin, &[]);
        let owner = identity(Role::Owner, &[]);
        let like_a_manager = custom(&[Permission::Results], true).reach();
        let wide_results = custom(&[Permission::Results], false).reach();
        let auditing = custom(&[Permission::Audit], false).reach();
        let nothing = custom(&[], false).reach();
        for reach in [like_a_manager, nothing] {
            assert!(allows(&hr, Action::AssignRole(reach), Resource::Workplace));
        }
        for reach in [wide_results, auditing] {
            assert!(!allows(&hr, Action::AssignRole(reach), Resource::Workplace));
            assert!(allows(&owner, Action::AssignRole(reach), Resource::Workplace));
        }
    }

    #[test]
    fn permission_sets_and_role_keys_round_trip() {
        let set: PermissionSet = [Permission::Audit, Permission::People].into_iter().collect();
        assert_eq!(set.keys(), "people,audit");
        assert_eq!(PermissionSet::from_keys("people,audit"), Some(set));
        assert_eq!(PermissionSet::from_keys(""), Some(PermissionSet::default()));
        assert_eq!(PermissionSet::from_keys("people,root"), None);
        for role in Role::ALL {
            let key = RoleKey::BuiltIn(role);
            assert_eq!(key.to_string().parse::<RoleKey>().unwrap(), key);
        }
        let custom = RoleKey::Workplace(RoleId::new());
        assert_eq!(custom.to_string().parse::<RoleKey>().unwrap(), custom);
        assert!("custom:nonsense".parse::<RoleKey>().is_err());
        assert!("root".parse::<RoleKey>().is_err());
    }

    #[test]
    fn everyone_sees_their_own_record() {
        let who = identity(Role::Employee, &[]);
        let me = Resource::Person {
            id: who.user_id,
            department: None,
        };
        assert!(allows(&who, Action::ViewPerson, me));
    }

    #[test]
    fn refusals_about_people_do_not_confirm_they_exist() {
        let who = identity(Role::Employee, &[]);
        let other = Resource::Person {
            id: UserId::new(),
            department: None,
        };
        assert_eq!(
            require(&who, Action::ViewPerson, other).unwrap_err().code(),
            "resource.not_found"
        );
        assert_eq!(
            require(&who, Action::ManageDepartments, Resource::Workplace)
                .unwrap_err()
                .code(),
            "auth.forbidden"
        );
    }

    #[test]
    fn roles_round_trip_through_their_keys() {
        for role in Role::ALL {
            assert_eq!(Role::from_key(role.key()), Some(role));
        }
        assert_eq!(Role::from_key("root"), None);
    }
}
