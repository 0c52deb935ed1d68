//! The one place that decides whether an identity may perform an action on a resource. Server
//! functions, jobs and the CLI ask [`require`]; nothing else compares roles.
//!
//! Permissions come from the person's role (built-in or, later, the workplace's own); a
//! manager's `results` permission, and the people they may see, are limited to the department
//! subtrees they were granted.

use std::collections::BTreeSet;

use crate::{
    ids::{DepartmentId, UserId, WorkplaceId},
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

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Employee => &[],
            Role::Manager => &[Results],
            Role::HrAdmin => &[Settings, People, Surveys, Results],
            Role::Auditor => &[Audit],
            Role::Owner => &[Settings, Billing, People, Surveys, Results, Audit, Roles],
        }
    }

    /// Whether `results` covers only the departments granted to the person.
    fn results_limited_to_grants(self) -> bool {
        self == Role::Manager
    }
}

/// Who is asking: a person signed in with both factors, as loaded for this request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub user_id: UserId,
    pub workplace_id: WorkplaceId,
    pub role: Role,
    /// The granted departments and every department below them.
    pub granted_departments: BTreeSet<DepartmentId>,
}

impl Identity {
    pub fn has(&self, permission: Permission) -> bool {
        self.role.permissions().contains(&permission)
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
    /// Give a person this role.
    AssignRole(Role),
    ManageRoles,
    ManageSettings,
    ViewResults,
    ViewAudit,
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
        // HR admins place employees and managers; other roles are the Owner's to give.
        (Action::AssignRole(Role::Employee | Role::Manager), _) => {
            identity.has(People) || identity.has(Roles)
        }
        (Action::AssignRole(_), _) => identity.has(Roles),
        (Action::ManageRoles, _) => identity.has(Roles),
        (Action::ManageSettings, _) => identity.has(Settings),
        (Action::ViewResults, resource) => {
            if !identity.has(Results) {
                return false;
            }
            if !identity.role.results_limited_to_grants() {
                return true;
            }
            match resource {
                Resource::Department(department) => identity.sees_department(Some(department)),
                Resource::Person { department, .. } => identity.sees_department(department),
                Resource::Workplace => false,
            }
        }
        (Action::ViewAudit, _) => identity.has(Audit),
    }
}

/// Whose records a person may list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Everyone,
    /// People whose department is one of these (possibly none).
    Departments(BTreeSet<DepartmentId>),
}

/// The people an identity may list: everyone with `people`; a manager, their granted subtrees;
/// anyone else, nobody (they still see their own record).
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
            role,
            granted_departments: granted.iter().copied().collect(),
        }
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
            (HrAdmin, AssignRole(Manager), Resource::Workplace, true),
            (HrAdmin, AssignRole(Employee), Resource::Workplace, true),
            (HrAdmin, AssignRole(HrAdmin), Resource::Workplace, false),
            (HrAdmin, AssignRole(Owner), Resource::Workplace, false),
            (Manager, AssignRole(Employee), Resource::Workplace, false),
            (Owner, AssignRole(Owner), Resource::Workplace, true),
            (Owner, AssignRole(Auditor), Resource::Workplace, true),
            (Owner, ViewAudit, Resource::Workplace, true),
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
